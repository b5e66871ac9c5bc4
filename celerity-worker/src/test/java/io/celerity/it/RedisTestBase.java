package io.celerity.it;

import org.junit.jupiter.api.BeforeEach;

/** {@link WorkerTestBase} on Redis (kombu's Redis transport), results in another Redis database. */
abstract class RedisTestBase extends WorkerTestBase {

  /** The broker's Redis, to look at queues and {@code unacked} as kombu keeps them. */
  protected RedisCli redis;

  @BeforeEach
  void openRedis() {
    redis = new RedisCli(brokerUrl());
  }

  @Override
  protected String brokerUrl() {
    return Brokers.REDIS_BROKER_URL;
  }

  @Override
  protected String resultsUrl() {
    return Brokers.REDIS_RESULTS_URL;
  }

  @Override
  protected void deleteQueue() throws Exception {
    try (RedisCli cli = redis) {
      cli.deleteQueue(queue);
    }
  }
}

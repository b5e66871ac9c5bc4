package io.celerity.transport.contract;

import io.celerity.it.Brokers;
import io.celerity.it.RedisCli;

/** The contract on Redis (kombu's transport). */
class RedisTransportContractIT extends TransportContract {

  @Override
  protected String url(int proxyPort) {
    return proxyPort == 0 ? Brokers.REDIS_URL : "redis://127.0.0.1:" + proxyPort + "/9";
  }

  @Override
  protected long waiting() throws Exception {
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      return redis.waiting(queue);
    }
  }

  @Override
  protected int[] brokerPort() {
    return new int[] {6379};
  }

  @Override
  protected void deleteQueue() throws Exception {
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      redis.deleteQueue(queue);
    }
  }
}

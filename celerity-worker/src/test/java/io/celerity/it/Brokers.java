package io.celerity.it;

import java.util.UUID;

/** Where integration tests find the real services (set up by scripts/setup-services.sh). */
public final class Brokers {

  /** Private vhost so tests never touch other users' queues. */
  public static final String AMQP_URL =
      System.getProperty("celerity.test.amqp", "amqp://guest:guest@127.0.0.1:5672/celerity-test");

  /** Redis db used by integration tests. */
  public static final String REDIS_URL =
      System.getProperty("celerity.test.redis", "redis://127.0.0.1:6379/9");

  /** Redis as the broker (kombu's format), db 10. */
  public static final String REDIS_BROKER_URL =
      System.getProperty("celerity.test.redis-broker", "redis://127.0.0.1:6379/10");

  /** Results of the Redis-broker tests, db 11. */
  public static final String REDIS_RESULTS_URL =
      System.getProperty("celerity.test.redis-results", "redis://127.0.0.1:6379/11");

  private Brokers() {}

  /** A queue name no other test run uses. */
  public static String uniqueQueue(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }
}

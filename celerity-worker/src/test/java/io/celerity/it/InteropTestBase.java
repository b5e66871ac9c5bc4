package io.celerity.it;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** An in-process worker on RabbitMQ and Redis with a private queue, driven by the real Python client. */
abstract class InteropTestBase {

  protected Vertx vertx;
  protected String queue;
  protected CeleryClient client;
  protected WorkerHarness worker;

  /** Prefix of the test's unique queue name. */
  protected abstract String queuePrefix();

  @BeforeEach
  void setUpWorkerFixture() {
    vertx = io.celerity.support.BlockedThreadGuard.strictVertx();
    queue = Brokers.uniqueQueue(queuePrefix());
    client = new CeleryClient(Brokers.AMQP_URL, Brokers.REDIS_URL, queue);
  }

  @AfterEach
  void tearDownWorkerFixture() throws Exception {
    if (worker != null) {
      worker.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get();
    try (Amqp amqp = new Amqp()) {
      amqp.delete(queue);
    }
  }

  /** The node name of the worker {@link #startWorker} starts. */
  protected String node() {
    return "celerity-test-" + queue + "@localhost";
  }

  protected void startWorker(JsonObject extra) throws Exception {
    worker = WorkerHarness.start(vertx, WorkerHarness.config(Brokers.AMQP_URL, Brokers.REDIS_URL, queue).mergeIn(extra));
  }
}

package io.celerity.it;

import io.celerity.support.BlockedThreadGuard;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * An in-process worker against a real broker with a private queue, driven by the real Python
 * client; one subclass per broker ({@link AmqpTestBase}, {@link RedisTestBase}). Everything a test
 * opens through the base (worker, proxies, {@link #closeAfter}) is closed after it, newest first,
 * then the queue is deleted.
 */
abstract class WorkerTestBase {

  protected Vertx vertx;
  protected String queue;
  protected CeleryClient client;
  protected WorkerHarness worker;
  private final Deque<AutoCloseable> opened = new ArrayDeque<>();

  /** Prefix of the test's unique queue name. */
  protected abstract String queuePrefix();

  /** The broker URL workers and the client use. */
  protected abstract String brokerUrl();

  /** The result backend URL workers and the client use. */
  protected abstract String resultsUrl();

  /** Deletes the test's queue (and what the broker keeps for it); the last step of the teardown. */
  protected abstract void deleteQueue() throws Exception;

  @BeforeEach
  void setUpWorkerFixture() throws Exception {
    vertx = BlockedThreadGuard.strictVertx();
    queue = Brokers.uniqueQueue(queuePrefix());
    client = new CeleryClient(brokerUrl(), resultsUrl(), queue);
  }

  @AfterEach
  void tearDownWorkerFixture() throws Exception {
    if (worker != null) {
      worker.close();
    }
    while (!opened.isEmpty()) {
      opened.pop().close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get();
    deleteQueue();
  }

  /** Closes {@code resource} after the test, before the queue is deleted; returns it. */
  protected <T extends AutoCloseable> T closeAfter(T resource) {
    opened.push(resource);
    return resource;
  }

  /** A TCP proxy to {@code host:port} the test can cut, closed after the test. */
  protected TcpProxy proxy(String host, int port) throws Exception {
    return closeAfter(new TcpProxy(vertx, host, port));
  }

  /** The node name of the worker {@link #startWorker} starts. */
  protected String node() {
    return "celerity-test-" + queue + "@localhost";
  }

  /** Starts the worker on the test's queue, with {@code extra} settings. */
  protected void startWorker(JsonObject extra) throws Exception {
    startWorker(brokerUrl(), extra);
  }

  /** Starts the worker on the test's queue through another broker URL (a proxy's). */
  protected void startWorker(String broker, JsonObject extra) throws Exception {
    worker =
        WorkerHarness.start(
            vertx, WorkerHarness.config(broker, resultsUrl(), queue).mergeIn(extra));
  }
}

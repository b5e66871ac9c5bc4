package io.celerity.it;

import io.celerity.support.BlockedThreadGuard;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * The Redis broker connection is cut (through a proxy) while tasks flow, batches of messages
 * being popped and recorded: the worker must reconnect, keep consuming, and every task must
 * complete, with nothing left behind in {@code unacked}.
 */
class RedisReconnectTest {

  private static final String BROKER = RedisInteropTest.BROKER;
  private static final String RESULTS = RedisInteropTest.RESULTS;

  private final Vertx vertx = BlockedThreadGuard.strictVertx();
  private final String queue = Brokers.uniqueQueue("redis-reconnect");
  private final RedisCli redis = new RedisCli(BROKER);
  private WorkerHarness worker;
  private TcpProxy proxy;

  @AfterEach
  void tearDown() throws Exception {
    if (worker != null) {
      worker.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get();
    redis.deleteQueue(queue);
    redis.close();
  }

  @Test
  void resumesConsumingAfterConnectionLossAndLosesNothing() throws Exception {
    proxy = new TcpProxy(vertx, "127.0.0.1", 6379);
    // A short visibility timeout: messages popped in a batch whose reply the cut swallowed are
    // recorded in unacked but held by nobody, and come back the way a dead worker's do.
    String viaProxy = "redis://127.0.0.1:" + proxy.port() + "/10?visibility_timeout=3";
    worker = WorkerHarness.start(vertx, WorkerHarness.config(viaProxy, RESULTS, queue)
      .put("concurrency", 4).put("prefetch_multiplier", 8).put("reconnect_max_delay_ms", 500));
    CeleryClient client = new CeleryClient(BROKER, RESULTS, queue);
    List<String> ids = ReconnectTest.cutWhileTasksFlow(worker, client, proxy);
    ReconnectTest.assertAllSucceeded(worker, client, ids);
    Polling.until(() -> redis.unackedFor(queue) == 0 && redis.waiting(queue) == 0, 10_000);
  }
}

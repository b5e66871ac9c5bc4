package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.BlockedThreadGuard;
import io.celerity.support.Polling;
import io.celerity.transport.amqp.AmqpUrl;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Celery's failover broker URLs ({@code amqp://h1//;amqp://h2//}): two "nodes" (proxies in front of
 * the one broker); the one the worker uses dies during a drain and stays dead; the worker moves to
 * the other, and every task completes, none more than once beyond what was in flight.
 */
class FailoverTest {

  private final Vertx vertx = BlockedThreadGuard.strictVertx();
  private final String queue = Brokers.uniqueQueue("failover");
  private WorkerHarness worker;
  private TcpProxy first;
  private TcpProxy second;

  @AfterEach
  void tearDown() throws Exception {
    if (worker != null) {
      worker.close();
    }
    for (TcpProxy p : new TcpProxy[] {first, second}) {
      if (p != null) {
        p.close();
      }
    }
    vertx.close().toCompletionStage().toCompletableFuture().get();
    try (Amqp amqp = new Amqp()) {
      amqp.delete(queue);
    }
  }

  @Test
  void whenTheNodeDiesTheWorkerMovesToTheNextUrl() throws Exception {
    AmqpUrl real = AmqpUrl.parse(Brokers.AMQP_URL);
    first = new TcpProxy(vertx, real.host(), real.port());
    second = new TcpProxy(vertx, real.host(), real.port());
    String urls =
        "amqp://guest:guest@127.0.0.1:"
            + first.port()
            + "/"
            + real.vhost()
            + ";amqp://guest:guest@127.0.0.1:"
            + second.port()
            + "/"
            + real.vhost();
    int concurrency = 4;
    int prefetchMultiplier = 4;
    worker =
        WorkerHarness.start(
            vertx,
            WorkerHarness.config(urls, Brokers.REDIS_URL, queue)
                .put("concurrency", concurrency)
                .put("prefetch_multiplier", prefetchMultiplier)
                .put("reconnect_max_delay_ms", 1000));
    assertTrue(
        worker.consumerStats().transport().contains(":" + first.port() + "/"),
        "connected to the first URL: " + worker.consumerStats());

    CeleryClient client = new CeleryClient(Brokers.AMQP_URL, Brokers.REDIS_URL, queue);
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      calls.add(CeleryClient.call("examples.sleep", List.of(0.005), Map.of()));
    }
    List<String> ids = new ArrayList<>();
    client.send(calls).forEach(r -> ids.add((String) r.get("id")));
    Polling.until(() -> worker.resultStats().succeeded() >= 50, 30_000);
    long cut = System.nanoTime();
    first.cut(true); // the first node is dead for good
    Polling.until(
        () -> worker.consumerStats().reconnects() >= 1 && worker.consumerStats().connected(),
        30_000);
    long movedMs = (System.nanoTime() - cut) / 1_000_000;
    io.celerity.types.ConsumerStats stats = worker.consumerStats();
    assertTrue(
        stats.transport().contains(":" + second.port() + "/"), "moved to the second URL: " + stats);

    List<Map<String, Object>> results = client.get(ids, 120);
    assertEquals(
        ids.size(),
        results.stream().filter(r -> "SUCCESS".equals(r.get("state"))).count(),
        "every task completed after the failover");
    Polling.until(() -> worker.resultStats().succeeded() >= ids.size(), 10_000);
    long ran = worker.resultStats().succeeded();
    // Redelivered after the loss: at most what was reserved or running then (prefetch window +
    // slots).
    long duplicates = ran - ids.size();
    assertTrue(
        duplicates <= (long) concurrency * prefetchMultiplier + concurrency,
        duplicates + " ran twice");
    System.out.printf(
        "failover: moved to the second URL in %d ms; %d task(s) ran twice (in-flight window %d)%n",
        movedMs, duplicates, concurrency * prefetchMultiplier + concurrency);
  }
}

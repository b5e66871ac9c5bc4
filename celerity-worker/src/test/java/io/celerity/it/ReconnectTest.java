package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.Addresses;
import io.celerity.support.Polling;
import io.celerity.transport.amqp.AmqpUrl;
import io.celerity.types.ConsumerStats;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Celery's most reported failure: a worker that silently stops consuming after a broker reconnect.
 * Here the connection is cut (through a proxy) while tasks flow; the worker must reconnect, restart
 * its consumer with its prefetch limit, and complete every task.
 */
class ReconnectTest extends AmqpTestBase {

  @Override
  protected String queuePrefix() {
    return "reconnect";
  }

  @Test
  void resumesConsumingWithPrefetchIntactAfterConnectionLoss() throws Exception {
    AmqpUrl real = AmqpUrl.parse(Brokers.AMQP_URL);
    TcpProxy proxy = proxy(real.host(), real.port());
    String viaProxy = "amqp://guest:guest@127.0.0.1:" + proxy.port() + "/" + real.vhost();
    startWorker(
        viaProxy,
        new JsonObject()
            .put("concurrency", 4)
            .put("prefetch_multiplier", 4)
            .put("reconnect_max_delay_ms", 500));
    List<String> ids = Reconnects.cutWhileTasksFlow(worker, client, proxy);
    Reconnects.assertAllSucceeded(worker, client, ids, () -> Amqp.describe(queue));

    // The prefetch limit is in force on the new channel: with 4 slots running (acked at start) and
    // a prefetch of 16 unacked, exactly 20 of 40 long tasks leave the queue; without QoS all would.
    List<Map<String, Object>> slow = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      slow.add(CeleryClient.call("examples.sleep", List.of(3), Map.of()));
    }
    client.send(slow);
    try (Amqp amqp = new Amqp()) {
      Polling.until(() -> amqp.ready(queue) == 20, 10_000);
      assertEquals(16, worker.consumerStats().prefetchCount());
    }
  }

  /**
   * A publish to an exchange that does not exist (a pidbox {@code reply_to} exchange, a link's
   * {@code exchange} option) makes RabbitMQ close the publishing channel with 404. It must cost the
   * consumer nothing: no reconnect, no redelivery of reserved messages (acks_late tasks would run
   * twice), and the publish fails alone; publishing works again afterwards.
   */
  @Test
  void aPublishToAMissingExchangeFailsAloneAndCostsTheConsumerNothing() throws Exception {
    startWorker(new JsonObject().put("concurrency", 2).put("acks_late", true));
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      calls.add(CeleryClient.call("examples.sleep", List.of(1.0), Map.of()));
    }
    List<String> ids = new ArrayList<>();
    client.send(calls).forEach(r -> ids.add((String) r.get("id")));
    try (Amqp amqp = new Amqp()) {
      Polling.until(
          () -> amqp.ready(queue) == 0,
          10_000); // two running, four reserved, none acked (acks_late)
    }

    io.celerity.types.OutgoingMessage toNowhere =
        io.celerity.types.OutgoingMessage.json(
            "no-such-exchange-" + queue,
            "x",
            "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
            Map.of(),
            Map.of());
    Throwable failed = null;
    try {
      vertx
          .eventBus()
          .request(Addresses.BROKER_PUBLISH, toNowhere)
          .toCompletionStage()
          .toCompletableFuture()
          .get(15, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      failed = e.getCause();
    }
    assertTrue(failed != null, "the publish to a missing exchange failed");

    // Publishing works again: an event-style publish to our own queue's exchange is confirmed.
    io.celerity.types.OutgoingMessage ok =
        io.celerity.types.OutgoingMessage.json(
            "",
            "no-queue-" + queue,
            "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
            Map.of(),
            Map.of());
    Polling.until(
        () -> {
          try {
            vertx
                .eventBus()
                .request(Addresses.BROKER_PUBLISH, ok)
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, java.util.concurrent.TimeUnit.SECONDS);
            return true;
          } catch (java.util.concurrent.ExecutionException e) {
            return false;
          }
        },
        10_000);

    List<Map<String, Object>> results = client.get(ids, 60);
    assertEquals(6, results.stream().filter(r -> "SUCCESS".equals(r.get("state"))).count());
    ConsumerStats stats = worker.consumerStats();
    assertEquals(0L, stats.reconnects(), "the consumer connection was kept: " + stats);
    assertTrue(stats.connected());
    Polling.until(() -> worker.resultStats().succeeded() >= 6, 10_000);
    assertEquals(6L, worker.resultStats().succeeded(), "no reserved task ran twice");
  }
}

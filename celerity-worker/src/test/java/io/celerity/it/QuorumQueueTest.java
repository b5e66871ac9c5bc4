package io.celerity.it;

import static io.celerity.it.CeleryClient.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.celerity.transport.amqp.AmqpUrl;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RabbitMQ quorum queues, as an application that declares them meets the worker: an existing quorum
 * queue is detected and consumed (per-consumer prefetch: quorum queues refuse global QoS),
 * countdown tasks wait in the broker's native delayed delivery queues instead of unacked in the
 * worker, and a message over its {@code x-delivery-limit} is dead-lettered instead of looping.
 */
class QuorumQueueTest extends AmqpTestBase {

  private static final Map<String, Object> QUORUM = Map.of("x-queue-type", "quorum");

  @Override
  protected String queuePrefix() {
    return "quorum";
  }

  @Test
  void anExistingQuorumQueueIsDetectedAndConsumed() throws Exception {
    client = new CeleryClient(Brokers.AMQP_URL, Brokers.REDIS_URL, queue, QUORUM);
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      calls.add(call("examples.add", List.of(i, 1), Map.of()));
    }
    List<String> ids = ids(client.send(calls)); // the Python app declared the quorum queue
    startWorker(
        new JsonObject().put("concurrency", 2)); // configured classic: the quorum queue is detected

    List<Map<String, Object>> results = client.get(ids, 60);
    for (int i = 0; i < 30; i++) {
      assertEquals("SUCCESS", results.get(i).get("state"), results.get(i).toString());
      assertEquals(i + 1, ((Number) results.get(i).get("result")).intValue());
    }
    String transport = worker.consumerStats().transport();
    assertTrue(transport.contains("quorum") && transport.contains("per consumer"), transport);
  }

  @Test
  void withDetectionOffAMismatchFailsStartUpSayingWhy() throws Exception {
    try (Amqp amqp = new Amqp()) {
      amqp.declare(queue, QUORUM);
    }
    Exception failed = null;
    try {
      startWorker(
          new JsonObject()
              .put("detect_quorum_queues", false)
              .put("broker_connection_max_retries", 1));
    } catch (Exception e) {
      failed = e;
    }
    assertTrue(failed != null, "the worker did not start");
    String why =
        String.valueOf(
            failed.getCause() != null ? failed.getCause().getMessage() : failed.getMessage());
    assertTrue(
        why.contains("declaring queue '" + queue + "'") && why.contains("x-queue-type"), why);
  }

  @Test
  void countdownTasksWaitInTheBrokerNotUnackedInTheWorker() throws Exception {
    client = new CeleryClient(Brokers.AMQP_URL, Brokers.REDIS_URL, queue, QUORUM);
    startWorker(new JsonObject().put("task_default_queue_type", "quorum").put("concurrency", 2));
    List<Map<String, Object>> calls = new ArrayList<>();
    java.time.Instant eta = java.time.Instant.now().plusSeconds(4);
    for (int i = 0; i < 10; i++) {
      Map<String, Object> c =
          new java.util.HashMap<>(call("examples.add", List.of(i, 100), Map.of()));
      c.put("options", Map.of("eta", eta.toString()));
      calls.add(c);
    }
    long sent = System.currentTimeMillis();
    List<String> ids = ids(client.send(calls));
    // Handed to the delay queues and acked: nothing stays unacked in the worker while they wait.
    Polling.until(
        () -> worker.consumerStats().received() >= 10 && worker.consumerStats().unsettled() == 0,
        20_000);
    io.celerity.types.ConsumerStats stats = worker.consumerStats();
    if (System.currentTimeMillis() - sent
        < 3_000) { // (on a very slow machine they may be back already)
      assertEquals(0, stats.etaHeld(), stats.toString());
    }
    List<Map<String, Object>> results = client.get(ids, 60);
    for (int i = 0; i < 10; i++) {
      assertEquals("SUCCESS", results.get(i).get("state"), results.get(i).toString());
      assertEquals(i + 100, ((Number) results.get(i).get("result")).intValue());
      @SuppressWarnings("unchecked")
      String done =
          (String) ((Map<String, Object>) results.get(i).get("raw_meta")).get("date_done");
      assertTrue(
          !java.time.LocalDateTime.parse(done).toInstant(java.time.ZoneOffset.UTC).isBefore(eta),
          "ran at its ETA " + eta + ", not before: " + results.get(i));
    }
    Polling.until(() -> worker.resultStats().succeeded() >= 10, 10_000);
    assertEquals(10L, worker.resultStats().succeeded(), "each ran once");
  }

  /**
   * A countdown task as Celery 5.5 publishes it for a quorum queue: to {@code celery_delayed_27}
   * with the delay in binary in the routing key. It comes out of the delay queues into our queue
   * and runs.
   */
  @Test
  void aCountdownPublishedAsCelery55DoesArrivesThroughTheDelayQueues() throws Exception {
    startWorker(new JsonObject().put("task_default_queue_type", "quorum").put("concurrency", 1));
    String id = java.util.UUID.randomUUID().toString();
    java.time.Instant eta = java.time.Instant.now().plusSeconds(2);
    Map<String, Object> headers =
        new java.util.HashMap<>(
            Map.of(
                "lang",
                "py",
                "task",
                "examples.add",
                "id",
                id,
                "root_id",
                id,
                "retries",
                0,
                "eta",
                eta.toString()));
    try (Amqp amqp = new Amqp()) {
      amqp.publishTo(
          "celery_delayed_27",
          io.celerity.transport.amqp.AmqpQueues.delayedRoutingKey(2, queue),
          "application/json",
          headers,
          "[[20, 22], {}, {}]".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    List<Map<String, Object>> results = client.get(List.of(id), 30);
    assertEquals("SUCCESS", results.get(0).get("state"), results.toString());
    assertEquals(42, ((Number) results.get(0).get("result")).intValue());
  }

  /**
   * A message whose worker connection dies while it runs comes back, again and again: with {@code
   * x-delivery-limit} the quorum queue dead-letters it after the limit instead.
   */
  @Test
  void aMessageOverItsDeliveryLimitIsDeadLetteredNotLooped() throws Exception {
    String dead = queue + ".dead";
    AmqpUrl real = AmqpUrl.parse(Brokers.AMQP_URL);
    try (Amqp amqp = new Amqp();
        TcpProxy proxy = new TcpProxy(vertx, real.host(), real.port())) {
      amqp.declare(dead, Map.of());
      String viaProxy = "amqp://guest:guest@127.0.0.1:" + proxy.port() + "/" + real.vhost();
      worker =
          WorkerHarness.start(
              vertx,
              WorkerHarness.config(viaProxy, Brokers.REDIS_URL, queue)
                  .put("app", new JsonArray().add(TestTasks.class.getName()))
                  .put("task_default_queue_type", "quorum")
                  .put(
                      "queue_arguments",
                      new JsonObject()
                          .put("x-delivery-limit", 1)
                          .put("x-dead-letter-exchange", "")
                          .put("x-dead-letter-routing-key", dead))
                  .put("reconnect_max_delay_ms", 500)
                  .put("shutdown_timeout", 1.0));
      client =
          new CeleryClient(
              Brokers.AMQP_URL,
              Brokers.REDIS_URL,
              queue,
              Map.of(
                  "x-queue-type",
                  "quorum",
                  "x-delivery-limit",
                  1,
                  "x-dead-letter-exchange",
                  "",
                  "x-dead-letter-routing-key",
                  dead));
      client.send(List.of(call("tests.late", List.of(20.0), Map.of())));
      for (long received = 1;
          received <= 2;
          received++) { // the first delivery, then the redelivery
        long r = received;
        Polling.until(() -> worker.consumerStats().received() >= r, 20_000);
        proxy.cut(false);
        Polling.until(() -> worker.consumerStats().reconnects() >= r, 20_000);
      }
      Polling.until(() -> amqp.ready(dead) == 1, 20_000);
      assertEquals(
          2L,
          worker.consumerStats().received(),
          "delivered once plus once again, then dead-lettered");

      // Still consuming.
      List<Map<String, Object>> after =
          client.call(List.of(call("examples.add", List.of(2, 3), Map.of())));
      assertEquals(5, ((Number) after.get(0).get("result")).intValue(), after.toString());
      assertEquals(3L, worker.consumerStats().received());
    } finally {
      try (Amqp amqp = new Amqp()) {
        amqp.delete(dead);
      }
    }
  }

  private static List<String> ids(List<Map<String, Object>> sent) {
    List<String> ids = new ArrayList<>();
    sent.forEach(r -> ids.add((String) r.get("id")));
    return ids;
  }
}

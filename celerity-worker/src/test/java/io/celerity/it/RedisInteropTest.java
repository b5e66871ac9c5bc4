package io.celerity.it;

import static io.celerity.it.CeleryClient.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The real Python Celery client against our worker over Redis (kombu's Redis transport). */
class RedisInteropTest extends RedisTestBase {

  @Override
  protected String queuePrefix() {
    return "redis-interop";
  }

  @Test
  void successFailureAndKwargsReachThePythonCaller() throws Exception {
    startWorker(new JsonObject());
    List<Map<String, Object>> r =
        client.call(
            List.of(
                call("examples.add", List.of(2, 2), Map.of()),
                call("examples.add", List.of(), Map.of("x", 1, "y", 2)),
                call("examples.fail", List.of("boom"), Map.of()),
                call("examples.echo", List.of("héllo wörld ✓"), Map.of())));
    assertEquals("SUCCESS", r.get(0).get("state"));
    assertEquals(4, r.get(0).get("result"));
    assertEquals(3, r.get(1).get("result"));
    assertEquals("FAILURE", r.get(2).get("state"));
    assertEquals("ValueError", r.get(2).get("exc_type"));
    assertEquals("boom", r.get(2).get("exc_message"));
    assertEquals("héllo wörld ✓", r.get(3).get("result"));
    Polling.until(() -> redis.unackedFor(queue) == 0, 5_000);
    assertEquals(0, redis.waiting(queue));
    assertEquals(
        1, redis.count("SCARD", "_kombu.binding." + queue), "queue declared as kombu does");
  }

  @Test
  void prioritiesAreServedInKombuOrderLowestFirst() throws Exception {
    // sent while no worker runs, so all four wait in their priority lists
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int p : new int[] {9, 0, 6, 3}) {
      Map<String, Object> c = new HashMap<>(call("examples.echo", List.of(p), Map.of()));
      c.put("options", Map.of("priority", p));
      calls.add(c);
    }
    List<Map<String, Object>> sent = client.send(calls);
    assertEquals(4, redis.waiting(queue));
    assertEquals(
        1, redis.count("LLEN", queue + "\u0006\u00169"), "priority 9 is in the \\x06\\x169 list");

    startWorker(new JsonObject().put("concurrency", 1).put("prefetch_multiplier", 1));
    List<Map<String, Object>> done =
        client.get(sent.stream().map(s -> (String) s.get("id")).toList(), 20);
    List<Object> order =
        done.stream()
            .sorted(Comparator.comparing(d -> meta(d).get("date_done").toString()))
            .map(d -> d.get("result"))
            .toList();
    assertEquals(List.of(0, 3, 6, 9), order, "on Redis a lower number is served first");
  }

  @Test
  void badMessagesAreDroppedWithALogAndTheConsumerKeepsGoing() throws Exception {
    startWorker(new JsonObject());
    redis.send("LPUSH", queue, "not json{");
    redis.send("LPUSH", queue, "{\"body\": 5}");
    // a kombu envelope with a content type outside the accept list: rejected by the strategy
    redis.send(
        "LPUSH",
        queue,
        "{\"body\": \"gASVAgAAAAAAAABLAS4=\", \"content-encoding\": \"binary\", "
            + "\"content-type\": \"application/x-python-serialize\", \"headers\": {\"task\": \"examples.add\", \"id\": \"p-1\"}, "
            + "\"properties\": {\"delivery_info\": {\"exchange\": \"\", \"routing_key\": \""
            + queue
            + "\"}, \"priority\": 0, "
            + "\"body_encoding\": \"base64\", \"delivery_tag\": \""
            + java.util.UUID.randomUUID()
            + "\"}}");
    Map<String, Object> r =
        client.call(List.of(call("examples.add", List.of(20, 22), Map.of()))).get(0);
    assertEquals(42, r.get("result"));
    Polling.until(() -> redis.unackedFor(queue) == 0, 5_000);
    assertEquals(0, redis.waiting(queue), "nothing bad was put back");
    assertEquals(2L, worker.consumerStats().received(), "only kombu envelopes reach the strategy");
  }

  @Test
  void rpcBackendOverRabbitMq() throws Exception {
    String amqpQueue = Brokers.uniqueQueue("rpc");
    Vertx v2 = io.celerity.support.BlockedThreadGuard.strictVertx();
    try (WorkerHarness w =
        WorkerHarness.start(
            v2,
            WorkerHarness.config(Brokers.AMQP_URL, "rpc://", amqpQueue)
                .put("track_started", true))) {
      CeleryClient rpc = new CeleryClient(Brokers.AMQP_URL, "rpc://", amqpQueue);
      List<Map<String, Object>> r =
          rpc.call(
              List.of(
                  call("examples.add", List.of(2, 2), Map.of()),
                  call("examples.fail", List.of("kaboom"), Map.of())));
      assertEquals("SUCCESS", r.get(0).get("state"));
      assertEquals(4, r.get(0).get("result"));
      assertEquals("FAILURE", r.get(1).get("state"));
      assertEquals("ValueError", r.get(1).get("exc_type"));
      assertEquals("kaboom", r.get(1).get("exc_message"));
    } finally {
      v2.close().toCompletionStage().toCompletableFuture().get();
      try (Amqp amqp = new Amqp()) {
        amqp.delete(amqpQueue);
      }
    }
  }

  @Test
  void rpcBackendOverRedis() throws Exception {
    startWorker(new JsonObject().put("result_backend", "rpc://"));
    CeleryClient rpc = new CeleryClient(brokerUrl(), "rpc://", queue);
    Map<String, Object> r = rpc.call(List.of(call("examples.mul", List.of(6, 7), Map.of()))).get(0);
    assertEquals("SUCCESS", r.get("state"));
    assertEquals(42, r.get("result"));
  }

  /**
   * The key feature: a live worker keeps what it holds fresh, so a second worker with the same
   * short visibility timeout never restores (and runs again) a long acks_late task.
   */
  @Test
  void aLiveWorkersLongTaskIsNotRestoredToAnotherWorker() throws Exception {
    String shortVisibility = brokerUrl() + "?visibility_timeout=1";
    startWorker(
        new JsonObject()
            .put("broker", shortVisibility)
            .put("app", new JsonArray().add(TestTasks.class.getName())));
    List<Map<String, Object>> sent =
        client.send(List.of(call("tests.late", List.of(4.0), Map.of())));
    Polling.until(() -> redis.unackedFor(queue) == 1, 10_000);

    Vertx v2 = io.celerity.support.BlockedThreadGuard.strictVertx();
    try (WorkerHarness other =
        WorkerHarness.start(
            v2,
            WorkerHarness.config(shortVisibility, resultsUrl(), queue)
                .put("hostname", "other-" + queue + "@localhost")
                .put("app", new JsonArray().add(TestTasks.class.getName())))) {
      Map<String, Object> r = client.get(List.of((String) sent.get(0).get("id")), 20).get(0);
      assertEquals("SUCCESS", r.get("state"));
      assertEquals("done", r.get("result"));
      assertEquals(
          0L,
          other.consumerStats().received(),
          "the second worker restored (and received) a message the first one was still running");
      assertEquals(1L, worker.consumerStats().received());
    } finally {
      v2.close().toCompletionStage().toCompletableFuture().get();
    }
    Polling.until(() -> redis.unackedFor(queue) == 0, 5_000);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> meta(Map<String, Object> result) {
    Map<String, Object> m = (Map<String, Object>) result.get("raw_meta");
    assertNotNull(m, "result document of " + result.get("id"));
    assertTrue(m.containsKey("date_done"));
    return m;
  }

  @SuppressWarnings("unused")
  private long succeeded() throws Exception {
    return worker.resultStats().succeeded();
  }

  @Test
  void disablePrefetchHoldsNoMoreThanTheFreeSlots() throws Exception {
    // Two slots, pull mode: once both run a long task, nothing more may leave the queue, even
    // though the transport takes several messages per round trip when it may. The messages wait
    // before the worker starts, so its first pull finds them all. The long tasks hold their slots
    // until the test opens their gate, however slowly the observation below runs.
    String gate = "pull-" + queue;
    List<Map<String, Object>> calls = new ArrayList<>();
    calls.add(call("tests.gate", List.of(gate), Map.of()));
    calls.add(call("tests.gate", List.of(gate), Map.of()));
    for (int i = 0; i < 4; i++) {
      calls.add(call("examples.add", List.of(i, i), Map.of()));
    }
    List<String> ids = new ArrayList<>();
    client.send(calls).forEach(r -> ids.add((String) r.get("id")));
    try {
      startWorker(
          new JsonObject()
              .put("concurrency", 2)
              .put("disable_prefetch", true)
              .put("app", new JsonArray().add(TestTasks.class.getName())));
      Polling.until(() -> worker.poolStats().active() == 2, 10_000);
      for (int look = 0;
          look < 20;
          look++) { // an observation window: nothing may be pulled meanwhile
        assertEquals(
            4, redis.waiting(queue), "queued behind busy slots instead of staying in Redis");
        assertEquals(0, worker.poolStats().reserved());
        java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
      }
      assertEquals(2L, worker.consumerStats().received(), "one message per free slot");
    } finally {
      TestTasks.open(gate);
    }
    assertTrue(client.get(ids, 20).stream().allMatch(r -> "SUCCESS".equals(r.get("state"))));
  }
}

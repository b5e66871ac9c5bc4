package io.celerity.it;

import static io.celerity.it.CeleryClient.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Celery's execution semantics as the real Python client sees them, over RabbitMQ with Redis
 * results.
 */
class SemanticsInteropTest extends AmqpTestBase {

  @Override
  protected String queuePrefix() {
    return "semantics";
  }

  private static Map<String, Object> with(Map<String, Object> call, String key, Object value) {
    Map<String, Object> m = new HashMap<>(call);
    m.put(key, value);
    return m;
  }

  private static Map<String, Object> options(
      Map<String, Object> call, Map<String, Object> options) {
    return with(call, "options", options);
  }

  @SuppressWarnings("unchecked")
  private static Instant dateDone(Map<String, Object> result) {
    Map<String, Object> meta = (Map<String, Object>) result.get("raw_meta");
    return LocalDateTime.parse((String) meta.get("date_done")).toInstant(ZoneOffset.UTC);
  }

  @Test
  void countdownAndEtaRunNoEarlierThanAsked() throws Exception {
    startWorker(new JsonObject().put("app", new JsonArray().add(TestTasks.class.getName())));
    // an ETA written with a +02:00 offset, 5 s ahead: long enough to see both held on a loaded
    // machine
    String eta = OffsetDateTime.now(ZoneOffset.ofHours(2)).plusSeconds(5).toString();
    Instant sent = Instant.now();
    List<Map<String, Object>> sentIds =
        client.send(
            List.of(
                options(call("examples.add", List.of(1, 2), Map.of()), Map.of("countdown", 5)),
                options(call("examples.add", List.of(3, 4), Map.of()), Map.of("eta", eta))));
    // both are held (unacked, scheduled) before they are due
    Polling.until(() -> worker.consumerStats().etaHeld() == 2, 5_000);
    List<Map<String, Object>> r =
        client.get(
            List.of((String) sentIds.get(0).get("id"), (String) sentIds.get(1).get("id")), 15);
    assertEquals(3, r.get(0).get("result"));
    assertEquals(7, r.get(1).get("result"));
    assertTrue(
        Duration.between(sent, dateDone(r.get(0))).toMillis() >= 4900, "countdown respected");
    assertTrue(
        Duration.between(sent, dateDone(r.get(1))).toMillis() >= 4900, "offset ETA respected");
  }

  /**
   * ETA tasks already waiting when the worker starts: each one held raises the prefetch window
   * (Celery's QoS increment), so all are held, and a task sent after them runs at once. The first
   * deliveries come before the connection counts as connected; their increments must still reach
   * the broker, or the window stays full of held tasks for good.
   */
  @Test
  void etaTasksWaitingAtStartUpAreAllHeldAndNothingQueuesBehindThem() throws Exception {
    List<Map<String, Object>> later = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      later.add(options(call("examples.add", List.of(i, i), Map.of()), Map.of("countdown", 3600)));
    }
    client.send(later);
    startWorker(new JsonObject().put("concurrency", 1).put("prefetch_multiplier", 1));
    Polling.until(() -> worker.consumerStats().etaHeld() == 20, 15_000);
    Map<String, Object> now =
        client.call(List.of(call("examples.add", List.of(2, 2), Map.of()))).get(0);
    assertEquals(4, now.get("result"));
    assertEquals(20, worker.consumerStats().etaHeld());
  }

  @Test
  void expiredWhenDueIsRevoked() throws Exception {
    startWorker(new JsonObject());
    Map<String, Object> r =
        client
            .call(
                List.of(
                    options(
                        call("examples.add", List.of(1, 1), Map.of()),
                        Map.of("countdown", 1.0, "expires", 0.5))))
            .get(0);
    assertEquals("REVOKED", r.get("state"));
    assertEquals("TaskRevokedError", r.get("exc_type"));
    assertEquals("celery.exceptions", r.get("exc_module"));
    assertEquals(List.of("expired"), r.get("exc_args"));
    try (Amqp amqp = new Amqp()) {
      assertEquals(0, amqp.ready(queue), "the expired message was acked");
    }
  }

  /**
   * Celery's Request.execute_using_pool checks expiry again when the request reaches a free slot.
   * Both slots are held by gated tasks; {@code add} (expires in 1 s) waits behind them (queued on a
   * pool thread, the thread pool's lookahead) until it has expired; when a slot frees it is stored
   * REVOKED (expired), acked, and never run.
   */
  @Test
  void expiredWhileWaitingForASlotIsRevoked() throws Exception {
    startWorker(
        new JsonObject()
            .put("app", new JsonArray().add(TestTasks.class.getName()))
            .put("concurrency", 2));
    String gate = "expiry-" + UUID.randomUUID();
    List<Map<String, Object>> held =
        client.send(
            List.of(
                call("tests.gate", List.of(gate), Map.of()),
                call("tests.gate", List.of(gate), Map.of())));
    Polling.until(() -> worker.poolStats().active() == 2, 10_000);
    String add =
        (String)
            client
                .send(
                    List.of(
                        options(
                            call("examples.add", List.of(1, 1), Map.of()), Map.of("expires", 1.0))))
                .get(0)
                .get("id");
    Polling.until(() -> worker.poolStats().reserved() == 1, 10_000);
    // Published before it was reserved, so it expires less than 1 s from now; let that pass while
    // it
    // waits for a slot (a wall-clock condition of the scenario, not a synchronisation).
    Instant reserved = Instant.now();
    Polling.until(() -> Instant.now().isAfter(reserved.plusMillis(1200)), 10_000);
    TestTasks.open(gate);
    List<Map<String, Object>> r =
        client.get(
            List.of(add, (String) held.get(0).get("id"), (String) held.get(1).get("id")), 20);
    assertEquals("REVOKED", r.get(0).get("state"));
    assertEquals("TaskRevokedError", r.get(0).get("exc_type"));
    assertEquals(List.of("expired"), r.get(0).get("exc_args"));
    assertEquals("SUCCESS", r.get(1).get("state"));
    assertEquals("SUCCESS", r.get(2).get("state"));
    Map<String, Long> total = worker.poolStats().total();
    assertEquals(null, total.get("examples.add"), "add never started: " + total);
    assertEquals(2L, total.get("tests.gate"));
    worker.close(); // an unacked message would now be back in the queue
    worker = null;
    try (Amqp amqp = new Amqp()) {
      assertEquals(0, amqp.ready(queue), "the expired message was acked");
    }
  }

  @Test
  void rateLimitHoldsOnlyItsOwnTaskType() throws Exception {
    startWorker(new JsonObject().put("concurrency", 4));
    List<Map<String, Object>> reply =
        client.control(
            "rate_limit",
            Map.of("task_name", "examples.add", "rate_limit", "10/s"),
            "celerity-test-" + queue + "@localhost");
    assertTrue(
        reply.stream()
            .anyMatch(m -> m.values().contains(Map.of("ok", "new rate limit set successfully"))),
        reply.toString());
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      calls.add(call("examples.add", List.of(i, i), Map.of()));
    }
    for (int i = 0; i < 5; i++) {
      calls.add(call("examples.mul", List.of(i, 2), Map.of()));
    }
    List<Map<String, Object>> r = client.call(calls);
    Instant firstAdd =
        r.subList(0, 30).stream()
            .map(SemanticsInteropTest::dateDone)
            .min(Instant::compareTo)
            .orElseThrow();
    Instant lastAdd =
        r.subList(0, 30).stream()
            .map(SemanticsInteropTest::dateDone)
            .max(Instant::compareTo)
            .orElseThrow();
    Instant lastMul =
        r.subList(30, 35).stream()
            .map(SemanticsInteropTest::dateDone)
            .max(Instant::compareTo)
            .orElseThrow();
    long addSpan = Duration.between(firstAdd, lastAdd).toMillis();
    assertTrue(addSpan >= 2600, "30 tasks at 10/s take at least 2.9 s, took " + addSpan + " ms");
    // order, not a margin of seconds: the unlimited type finished while the limited one was still
    // paced
    assertTrue(lastMul.isBefore(lastAdd), "other task types are not held up behind the rate limit");
    r.forEach(x -> assertEquals("SUCCESS", x.get("state")));
  }

  @Test
  void retriesUntilSuccessAndUntilMaxRetriesExceeded() throws Exception {
    startWorker(
        new JsonObject()
            .put("app", new JsonArray().add(TestTasks.class.getName()))
            .put("result_extended", true));
    List<Map<String, Object>> r =
        client.call(
            List.of(
                with(call("examples.retry_until", List.of(3), Map.of()), "observe_states", true),
                call("tests.always_retry", List.of(), Map.of()),
                call("tests.flaky", List.of(), Map.of())));
    assertEquals("SUCCESS", r.get(0).get("state"));
    assertEquals(3, r.get(0).get("result"));
    assertTrue(
        ((List<?>) r.get(0).get("states")).contains("RETRY"),
        "RETRY was stored: " + r.get(0).get("states"));
    @SuppressWarnings("unchecked")
    Map<String, Object> meta = (Map<String, Object>) r.get(0).get("raw_meta");
    assertEquals(3, meta.get("retries"));

    assertEquals("FAILURE", r.get(1).get("state"));
    assertEquals("MaxRetriesExceededError", r.get(1).get("exc_type"));
    assertEquals("celery.exceptions", r.get(1).get("exc_module"));

    assertEquals(
        "SUCCESS", r.get(2).get("state"), "autoretry_for retried the IllegalStateException");
    assertEquals(3, r.get(2).get("result"));
  }

  @Test
  void softAndHardTimeLimitsFromTheCaller() throws Exception {
    startWorker(new JsonObject().put("app", new JsonArray().add(TestTasks.class.getName())));
    // The body spins until the gate opens, after the caller heard: so it heard at the hard limit,
    // not when the task ended.
    String gate = "limits-" + queue;
    List<Map<String, Object>> r;
    try {
      r =
          client.call(
              List.of(
                  options(call("tests.spin", List.of(gate), Map.of()), Map.of("time_limit", 0.5)),
                  options(
                      call("examples.sleep", List.of(5), Map.of()),
                      Map.of("soft_time_limit", 0.3))));
    } finally {
      TestTasks.open(gate);
    }
    assertEquals("FAILURE", r.get(0).get("state"));
    assertEquals("TimeLimitExceeded", r.get(0).get("exc_type"));
    assertEquals("FAILURE", r.get(1).get("state"));
    assertEquals("SoftTimeLimitExceeded", r.get(1).get("exc_type"));
  }

  @Test
  void revokeBeforeAndDuringExecution() throws Exception {
    startWorker(new JsonObject().put("track_started", true));
    List<Map<String, Object>> sent =
        client.send(
            List.of(
                // held far longer than the test: the revoke, not the clock, must end it
                options(call("examples.add", List.of(1, 2), Map.of()), Map.of("countdown", 600)),
                call("examples.sleep", List.of(30), Map.of())));
    String scheduled = (String) sent.get(0).get("id");
    String running = (String) sent.get(1).get("id");
    Polling.until(() -> worker.poolStats().active() == 1, 10_000);

    List<Map<String, Object>> reply = client.control("revoke", Map.of("task_id", scheduled));
    assertTrue(
        reply.toString().contains("tasks " + scheduled + " flagged as revoked"), reply.toString());
    reply =
        client.control(
            "revoke", Map.of("task_id", running, "terminate", true, "signal", "SIGTERM"));
    assertTrue(reply.toString().contains("terminate: " + running), reply.toString());

    List<Map<String, Object>> r = client.get(List.of(scheduled, running), 10);
    assertEquals("REVOKED", r.get(0).get("state"));
    assertEquals(List.of("revoked"), r.get(0).get("exc_args"));
    assertEquals("REVOKED", r.get(1).get("state"));
    assertEquals(List.of("terminated"), r.get(1).get("exc_args"));
    assertEquals(0, worker.poolStats().active(), "the terminated task's slot is free");
  }

  @Test
  void statedbKeepsRevokesAcrossRestarts() throws Exception {
    File state = File.createTempFile("celerity-state", ".json");
    state.delete();
    try {
      startWorker(new JsonObject().put("statedb", state.getPath()));
      String id = UUID.randomUUID().toString();
      client.control("revoke", Map.of("task_id", id));
      worker.close();
      worker = null;
      assertTrue(
          Files.readString(state.toPath()).contains(id),
          "the revoke was written to the state file");

      startWorker(new JsonObject().put("statedb", state.getPath()));
      Map<String, Object> r =
          client
              .call(
                  List.of(
                      options(
                          call("examples.add", List.of(1, 2), Map.of()), Map.of("task_id", id))))
              .get(0);
      assertEquals("REVOKED", r.get("state"), "revoked before the restart, still revoked after it");
    } finally {
      state.delete();
    }
  }

  @Test
  void acksLateTaskComesBackAfterTheWorkerDies() throws Exception {
    File conf = File.createTempFile("celerity-acks-late", ".json");
    Files.writeString(conf.toPath(), new JsonObject().put("acks_late", true).encode());
    String sleepId;
    try (WorkerProcess doomed =
        WorkerProcess.start(
            "-b",
            Brokers.AMQP_URL,
            "--result-backend",
            Brokers.REDIS_URL,
            "-Q",
            queue,
            "-c",
            "1",
            "--http-port",
            "0",
            "-n",
            "doomed-" + queue + "@localhost",
            "--config",
            conf.getPath())) {
      doomed.waitForLog(" ready.", 60_000);
      sleepId =
          (String)
              client.send(List.of(call("examples.sleep", List.of(1), Map.of()))).get(0).get("id");
      doomed.waitForLog("Task examples.sleep[" + sleepId + "] received", 20_000);
      new ProcessBuilder("kill", "-9", Long.toString(doomed.pid())).start().waitFor();
      doomed.waitForExit(10_000);
    } finally {
      conf.delete();
    }
    startWorker(new JsonObject());
    Map<String, Object> r = client.get(List.of(sleepId), 20).get(0);
    assertEquals(
        "SUCCESS", r.get("state"), "the unacked message was redelivered to the next worker");
  }

  @Test
  void disablePrefetchNeverReservesBehindALongTask() throws Exception {
    // two workers of one slot each; the first takes a long task and must not reserve the short ones
    JsonObject fair =
        new JsonObject()
            .put("concurrency", 1)
            .put("disable_prefetch", true)
            .put("prefetch_multiplier", 4)
            .put("app", new JsonArray().add(TestTasks.class.getName()));
    startWorker(fair.copy().put("hostname", "fair-a-" + queue + "@localhost"));
    // its own Vert.x: two workers in one Vert.x instance would share event-bus addresses
    io.vertx.core.Vertx otherVertx = io.celerity.support.BlockedThreadGuard.strictVertx();
    WorkerHarness second =
        WorkerHarness.start(
            otherVertx,
            WorkerHarness.config(Brokers.AMQP_URL, Brokers.REDIS_URL, queue)
                .mergeIn(fair)
                .put("hostname", "fair-b-" + queue + "@localhost"));
    String gate = "fair-" + queue;
    try {
      // the long task runs until the short ones are done: a short one reserved behind it would
      // never finish
      String longId =
          (String)
              client.send(List.of(call("tests.gate", List.of(gate), Map.of()))).get(0).get("id");
      Polling.until(
          () -> worker.poolStats().active() == 1 || second.poolStats().active() == 1, 10_000);
      WorkerHarness busy = worker.poolStats().active() == 1 ? worker : second;
      List<Map<String, Object>> shorts = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        shorts.add(call("examples.sleep", List.of(0.1), Map.of()));
      }
      List<Map<String, Object>> r = client.call(shorts);
      r.forEach(
          one ->
              assertEquals(
                  "SUCCESS", one.get("state"), "every short task ran on the idle worker: " + one));
      assertEquals(
          1L,
          busy.consumerStats().received(),
          "the busy worker took no message behind its long task");
      TestTasks.open(gate);
      assertEquals(true, client.get(List.of(longId), 10).get(0).get("result"));
    } finally {
      TestTasks.open(gate);
      second.close();
      otherVertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }
}

package io.celerity.it;

import static io.celerity.it.CeleryControl.list;
import static io.celerity.it.CeleryControl.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Celery's {@code celery inspect}/{@code celery control}/{@code celery status} against a Celerity
 * worker on RabbitMQ.
 */
class RemoteControlTest extends AmqpTestBase {

  @Override
  protected String queuePrefix() {
    return "ctl";
  }

  private static Map<String, Object> options(
      Map<String, Object> call, Map<String, Object> options) {
    Map<String, Object> m = new java.util.HashMap<>(call);
    m.put("options", options);
    return m;
  }

  @Test
  void everyInspectAndControlCommandThroughTheCeleryCli() throws Exception {
    startWorker(new JsonObject().put("concurrency", 1));
    CeleryControl ctl = new CeleryControl(Brokers.AMQP_URL);
    String n = node();

    assertEquals(Map.of("ok", "pong"), ctl.cliJson("inspect", "ping", "-d", n).get(n));

    // One running task, one waiting for the slot, one held for its ETA. The sleep outlasts any
    // number of slow CLI calls: it ends by the terminate below.
    List<Map<String, Object>> sent =
        client.send(
            List.of(
                CeleryClient.call("examples.sleep", List.of(600), Map.of()),
                CeleryClient.call("examples.add", List.of(2, 2), Map.of()),
                options(
                    CeleryClient.call("examples.add", List.of(3, 3), Map.of()),
                    Map.of("countdown", 60))));
    String sleepId = (String) sent.get(0).get("id");
    String waitingId = (String) sent.get(1).get("id");
    String etaId = (String) sent.get(2).get("id");
    Polling.until(
        () ->
            worker.poolStats().active() == 1
                && worker.poolStats().reserved() == 1
                && worker.consumerStats().etaHeld() == 1,
        15_000);

    List<Map<String, Object>> active = list(ctl.cliJson("inspect", "active", "-d", n).get(n));
    assertEquals(1, active.size());
    assertEquals(sleepId, active.get(0).get("id"));
    assertEquals("examples.sleep", active.get(0).get("type"));
    assertEquals(List.of(600), active.get(0).get("args"));
    assertEquals(true, active.get(0).get("acknowledged"));
    assertEquals(n, active.get(0).get("hostname"));
    assertTrue(active.get(0).get("time_start") instanceof Number);
    assertEquals(queue, map(active.get(0).get("delivery_info")).get("routing_key"));

    List<Map<String, Object>> reserved = list(ctl.cliJson("inspect", "reserved", "-d", n).get(n));
    assertEquals(List.of(waitingId), reserved.stream().map(r -> r.get("id")).toList());
    assertEquals(false, reserved.get(0).get("acknowledged"));

    List<Map<String, Object>> scheduled = list(ctl.cliJson("inspect", "scheduled", "-d", n).get(n));
    assertEquals(etaId, map(scheduled.get(0).get("request")).get("id"));
    assertEquals(6, scheduled.get(0).get("priority"));
    assertTrue(((String) scheduled.get(0).get("eta")).endsWith("+00:00"));

    Map<String, Object> query =
        map(ctl.cliJson("inspect", "query_task", sleepId, etaId, "nosuchid", "-d", n).get(n));
    assertEquals("active", list2(query.get(sleepId)).get(0));
    assertEquals("reserved", list2(query.get(etaId)).get(0));
    assertFalse(query.containsKey("nosuchid"));

    assertTrue(
        ((List<?>) ctl.cliJson("inspect", "registered", "-d", n).get(n)).contains("examples.add"));
    Map<String, Object> stats = map(ctl.cliJson("inspect", "stats", "-d", n).get(n));
    assertEquals(ProcessHandle.current().pid(), ((Number) stats.get("pid")).longValue());
    assertEquals(1, map(stats.get("total")).get("examples.sleep"));
    assertEquals(1, map(stats.get("pool")).get("max-concurrency"));

    List<Map<String, Object>> queues =
        list(ctl.cliJson("inspect", "active_queues", "-d", n).get(n));
    assertEquals(queue, queues.get(0).get("name"));
    assertEquals("direct", map(queues.get(0).get("exchange")).get("type"));
    String conf = String.valueOf(ctl.cliJson("inspect", "conf", "-d", n).get(n));
    assertTrue(conf.contains("celerity-test") && !conf.contains("guest:guest"), conf);
    assertTrue(
        conf.contains("broker_url") && conf.contains("worker_concurrency"),
        "Celery's setting names: " + conf);
    assertTrue(
        String.valueOf(map(ctl.cliJson("inspect", "report", "-d", n).get(n)).get("ok"))
            .contains("celerity"));

    // revoke: the held ETA task is dropped (REVOKED); the running one is terminated.
    assertEquals(
        Map.of("ok", "tasks " + etaId + " flagged as revoked"),
        ctl.cliJson("control", "revoke", etaId, "-d", n).get(n));
    assertTrue(((List<?>) ctl.cliJson("inspect", "revoked", "-d", n).get(n)).contains(etaId));
    assertEquals(
        Map.of("ok", "terminate: " + sleepId),
        ctl.cliJson("control", "terminate", "SIGKILL", sleepId, "-d", n).get(n));
    List<Map<String, Object>> results = client.get(List.of(sleepId, waitingId, etaId), 15);
    assertEquals(
        List.of("REVOKED", "SUCCESS", "REVOKED"),
        results.stream().map(r -> r.get("state")).toList());

    assertEquals(
        Map.of("ok", "new rate limit set successfully"),
        ctl.cliJson("control", "rate_limit", "examples.add", "10/s", "-d", n).get(n));
    // Celery's shape: "name [attr=value ...]" for the attributes asked for that are not None
    List<?> registered =
        (List<?>) ctl.cliJson("inspect", "registered", "rate_limit", "-d", n).get(n);
    assertTrue(
        registered.contains("examples.add [rate_limit=10/s]")
            && registered.contains("examples.mul"),
        registered.toString());
    assertEquals(
        Map.of("error", "unknown task"),
        ctl.cliJson("control", "rate_limit", "examples.nope", "10/s", "-d", n).get(n));
    assertEquals(
        Map.of("ok", "time limits set successfully"),
        ctl.cliJson("control", "time_limit", "examples.add", "10", "20", "-d", n).get(n));

    String extra = queue + "-extra";
    try {
      assertEquals(
          Map.of("ok", "add consumer " + extra),
          ctl.cliJson("control", "add_consumer", extra, "-d", n).get(n));
      assertTrue(
          list(ctl.cliJson("inspect", "active_queues", "-d", n).get(n)).stream()
              .anyMatch(q -> extra.equals(q.get("name"))));
      assertEquals(
          Map.of("ok", "no longer consuming from " + extra),
          ctl.cliJson("control", "cancel_consumer", extra, "-d", n).get(n));
      assertEquals(
          List.of(queue),
          list(ctl.cliJson("inspect", "active_queues", "-d", n).get(n)).stream()
              .map(q -> q.get("name"))
              .toList());
    } finally {
      try (Amqp amqp = new Amqp()) {
        amqp.delete(extra);
      }
    }

    assertEquals(
        Map.of("ok", "pool will grow"), ctl.cliJson("control", "pool_grow", "2", "-d", n).get(n));
    assertEquals(3, worker.poolStats().maxConcurrency());
    assertEquals(
        Map.of("ok", "pool will shrink"),
        ctl.cliJson("control", "pool_shrink", "1", "-d", n).get(n));
    assertEquals(2, worker.poolStats().maxConcurrency());
    assertEquals(
        Map.of("error", "ValueError('Autoscale not enabled')"),
        ctl.cliJson("control", "autoscale", "4", "1", "-d", n).get(n));
    assertEquals(
        Map.of("ok", "task events enabled"),
        ctl.cliJson("control", "enable_events", "-d", n).get(n));
    assertEquals(
        Map.of("ok", "task events already enabled"),
        ctl.cliJson("control", "enable_events", "-d", n).get(n));
    assertEquals(
        Map.of("ok", "task events disabled"),
        ctl.cliJson("control", "disable_events", "-d", n).get(n));

    CeleryControl.CliResult status = ctl.cli("status");
    assertTrue(status.stdout().contains(n + ": OK"), status.stdout() + status.stderr());
  }

  @Test
  void twoWorkersAnswerOneBroadcastAndBadRequestsGetCeleryErrors() throws Exception {
    startWorker(new JsonObject());
    io.vertx.core.Vertx otherVertx = io.celerity.support.BlockedThreadGuard.strictVertx();
    String otherQueue = queue + "-2";
    String other = "celerity-test-" + otherQueue + "@localhost";
    try (WorkerHarness second =
        WorkerHarness.start(
            otherVertx, WorkerHarness.config(Brokers.AMQP_URL, Brokers.REDIS_URL, otherQueue))) {
      CeleryControl ctl = new CeleryControl(Brokers.AMQP_URL);
      List<List<Map<String, Object>>> replies =
          ctl.broadcast(
              List.of(
                  CeleryControl.request("ping", Map.of(), null),
                  CeleryControl.request("nosuchcmd", Map.of(), List.of(node())),
                  CeleryControl.request("pool_grow", Map.of("n", "many"), List.of(node())),
                  CeleryControl.request("ping", Map.of(), List.of(other)),
                  CeleryControl.request("clock", Map.of(), List.of(node()))));
      Map<String, Object> pings = merged(replies.get(0));
      assertEquals(Map.of("ok", "pong"), pings.get(node()));
      assertEquals(Map.of("ok", "pong"), pings.get(other));
      assertEquals(
          List.of(Map.of(node(), Map.of("error", "KeyError('nosuchcmd')"))), replies.get(1));
      assertEquals(
          Map.of("error", "ValueError(\"invalid literal for int() with base 10: 'many'\")"),
          merged(replies.get(2)).get(node()));
      assertEquals(
          List.of(Map.of(other, Map.of("ok", "pong"))),
          replies.get(3),
          "only the destination answers");
      assertTrue(((Number) map(merged(replies.get(4)).get(node())).get("clock")).longValue() > 0);
    } finally {
      otherVertx.close().toCompletionStage().toCompletableFuture().get();
      try (Amqp amqp = new Amqp()) {
        amqp.delete(otherQueue);
      }
    }
  }

  static Map<String, Object> merged(List<Map<String, Object>> replies) {
    Map<String, Object> all = new java.util.HashMap<>();
    replies.forEach(all::putAll);
    return all;
  }

  static List<?> list2(Object o) {
    assertNotNull(o);
    return (List<?>) o;
  }
}

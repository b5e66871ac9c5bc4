package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Celery's event receiver watching a Celerity worker (RabbitMQ), and the HTTP bridge with its token
 * rule and metrics.
 */
class EventsAndBridgeTest extends AmqpTestBase {

  private static final String TOKEN = "s3cret-but-long-enough";

  @Override
  protected String queuePrefix() {
    return "ev";
  }

  @Test
  void celeryEventReceiverSeesWorkerAndTaskEvents() throws Exception {
    CeleryControl ctl = new CeleryControl(Brokers.AMQP_URL);
    CeleryControl.EventCapture capture =
        ctl.events(
            node(),
            30,
            "worker-online",
            "worker-heartbeat",
            "task-received",
            "task-started",
            "task-succeeded",
            "task-failed",
            "task-revoked");
    startWorker(new JsonObject().put("task_events", true));
    Map<String, Object> expired =
        new java.util.HashMap<>(CeleryClient.call("examples.add", List.of(1, 1), Map.of()));
    expired.put("options", Map.of("expires", "2001-01-01T00:00:00+00:00"));
    List<Map<String, Object>> sent =
        client.send(
            List.of(
                CeleryClient.call("examples.add", List.of(2, 2), Map.of()),
                CeleryClient.call("examples.fail", List.of("kaboom"), Map.of()),
                expired));
    List<Map<String, Object>> events = capture.events();

    Map<String, Object> online = first(events, "worker-online", null);
    for (String f :
        List.of(
            "hostname",
            "utcoffset",
            "pid",
            "clock",
            "freq",
            "active",
            "processed",
            "loadavg",
            "sw_ident",
            "sw_ver",
            "sw_sys",
            "timestamp")) {
      assertTrue(online.containsKey(f), "worker-online lacks " + f + ": " + online);
    }
    assertEquals(1.0, ((Number) online.get("freq")).doubleValue());
    String addId = (String) sent.get(0).get("id");
    Map<String, Object> received = first(events, "task-received", addId);
    assertEquals("examples.add", received.get("name"));
    assertEquals(
        "[2, 2]", received.get("args")); // the argsrepr header as sent: send_task(args=[2, 2])
    assertEquals("{}", received.get("kwargs"));
    assertEquals(addId, received.get("root_id"));
    assertEquals(0, received.get("retries"));
    assertTrue(
        received.containsKey("eta")
            && received.containsKey("expires")
            && received.containsKey("parent_id"));
    first(events, "task-started", addId);
    Map<String, Object> succeeded = first(events, "task-succeeded", addId);
    assertEquals("4", succeeded.get("result"));
    assertTrue(((Number) succeeded.get("runtime")).doubleValue() >= 0);
    Map<String, Object> failed = first(events, "task-failed", (String) sent.get(1).get("id"));
    assertEquals("ValueError('kaboom')", failed.get("exception"));
    Map<String, Object> revoked = first(events, "task-revoked", (String) sent.get(2).get("id"));
    assertEquals(
        Map.of("terminated", false, "expired", true),
        Map.of("terminated", revoked.get("terminated"), "expired", revoked.get("expired")));
    assertNull(revoked.get("signum"));
    long lastClock = -1;
    for (Map<String, Object> e : events) {
      assertEquals(node(), e.get("hostname"));
      if (((String) e.get("type")).startsWith("task-")) {
        long clock = ((Number) e.get("clock")).longValue();
        assertTrue(clock > lastClock, "task event clocks increase: " + events);
        lastClock = clock;
      }
    }

    // disable_events: the worker's heartbeats go on, task events stop.
    ctl.broadcast(List.of(CeleryControl.request("disable_events", Map.of(), List.of(node()))));
    CeleryControl.EventCapture quiet = ctl.events(node(), 4, "worker-heartbeat", "task-succeeded");
    client.call(List.of(CeleryClient.call("examples.add", List.of(5, 5), Map.of())));
    List<Map<String, Object>> later = quiet.events();
    assertTrue(
        later.stream().anyMatch(e -> "worker-heartbeat".equals(e.get("type"))), later.toString());
    assertTrue(
        later.stream().noneMatch(e -> ((String) e.get("type")).startsWith("task-")),
        later.toString());
  }

  private static Map<String, Object> first(
      List<Map<String, Object>> events, String type, String uuid) {
    return events.stream()
        .filter(e -> type.equals(e.get("type")) && (uuid == null || uuid.equals(e.get("uuid"))))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type + " for " + uuid + " in " + events));
  }

  @Test
  void httpBridgeOffersTheCommandsWithTheTokenRuleAndMetrics() throws Exception {
    startWorker(new JsonObject().put("http_token", TOKEN));
    WebClient http = WebClient.create(vertx);
    int port = worker.httpPort();
    String n = node();

    JsonObject ping = get(http, port, "/control/inspect/ping").bodyAsJsonObject();
    assertEquals(new JsonObject().put(n, new JsonObject().put("ok", "pong")), ping);
    assertTrue(
        get(http, port, "/control/inspect/registered")
            .bodyAsJsonObject()
            .getJsonArray(n)
            .contains("examples.add"));
    assertEquals(
        queue,
        get(http, port, "/control/inspect/active_queues")
            .bodyAsJsonObject()
            .getJsonArray(n)
            .getJsonObject(0)
            .getString("name"));
    assertEquals(
        new JsonObject(),
        get(http, port, "/control/inspect/query_task?ids=nosuchid")
            .bodyAsJsonObject()
            .getJsonObject(n));

    HttpResponse<Buffer> unknown = get(http, port, "/control/inspect/nosuchcmd");
    assertEquals(404, unknown.statusCode());
    assertEquals(
        "KeyError('nosuchcmd')", unknown.bodyAsJsonObject().getJsonObject(n).getString("error"));
    assertEquals(
        400,
        get(http, port, "/control/inspect/rate_limit").statusCode(),
        "state changes are not inspect commands");

    JsonObject limit = new JsonObject().put("task_name", "examples.add").put("rate_limit", "100/s");
    assertEquals(401, post(http, port, "/control/rate_limit", limit, null).statusCode());
    assertEquals(401, post(http, port, "/control/rate_limit", limit, "wrong").statusCode());
    HttpResponse<Buffer> ok = post(http, port, "/control/rate_limit", limit, TOKEN);
    assertEquals(200, ok.statusCode());
    assertEquals(
        "new rate limit set successfully", ok.bodyAsJsonObject().getJsonObject(n).getString("ok"));
    assertEquals(
        "ValueError('missing argument queue')",
        post(http, port, "/control/add_consumer", new JsonObject(), TOKEN)
            .bodyAsJsonObject()
            .getJsonObject(n)
            .getString("error"));

    // Metrics: counters by task name move as tasks run.
    double before =
        counter(
            get(http, port, "/metrics").bodyAsString(),
            "celery_tasks_succeeded_total",
            "examples.mul");
    client.call(
        List.of(
            CeleryClient.call("examples.mul", List.of(3, 4), Map.of()),
            CeleryClient.call("examples.mul", List.of(5, 6), Map.of()),
            CeleryClient.call("examples.fail", List.of("x"), Map.of())));
    String scrape = get(http, port, "/metrics").bodyAsString();
    assertEquals(before + 2, counter(scrape, "celery_tasks_succeeded_total", "examples.mul"));
    assertEquals(2, counter(scrape, "celery_tasks_received_total", "examples.mul"));
    assertEquals(1, counter(scrape, "celery_tasks_failed_total", "examples.fail"));
    assertEquals(2, counter(scrape, "celery_task_runtime_seconds_count", "examples.mul"));
    assertEquals(2, counter(scrape, "celery_task_queue_wait_seconds_count", "examples.mul"));
    assertTrue(scrape.contains("celerity_pool_idle 4.0"), scrape);
    assertTrue(scrape.contains("celerity_broker_connected 1.0"));
    assertTrue(scrape.contains("celerity_event_loop_lag_seconds"));
    for (String jvm :
        List.of(
            "jvm_memory_used_bytes",
            "jvm_threads_live_threads",
            "process_cpu_usage",
            "process_files_open_files",
            "jvm_gc_memory_allocated_bytes_total")) {
      assertTrue(scrape.contains(jvm), jvm + " in /metrics");
    }
  }

  @Test
  void bridgeRefusesStateChangesWithoutTheGeneratedTokenAndPublicBindingWithoutOne()
      throws Exception {
    startWorker(new JsonObject());
    WebClient http = WebClient.create(vertx);
    HttpResponse<Buffer> refused =
        post(http, worker.httpPort(), "/control/pool_grow", new JsonObject(), null);
    assertEquals(401, refused.statusCode());
    assertEquals(
        200,
        post(http, worker.httpPort(), "/control/pool_grow", new JsonObject(), worker.httpToken())
            .statusCode());
    assertEquals(200, get(http, worker.httpPort(), "/control/inspect/stats").statusCode());

    io.vertx.core.Vertx other = io.celerity.support.BlockedThreadGuard.strictVertx();
    try {
      Exception e =
          assertThrows(
              Exception.class,
              () ->
                  WorkerHarness.start(
                      other,
                      WorkerHarness.config("memory://", "memory://", queue + "-pub")
                          .put("http_host", "0.0.0.0")));
      assertTrue(
          String.valueOf(e.getMessage()).contains("http_token"), String.valueOf(e.getMessage()));
    } finally {
      other.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private static double counter(String scrape, String name, String task) {
    Matcher m =
        Pattern.compile(
                "(?m)^" + name + "\\{[^}]*task=\"" + Pattern.quote(task) + "\"[^}]*} (\\S+)$")
            .matcher(scrape);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  private static HttpResponse<Buffer> get(WebClient http, int port, String uri) throws Exception {
    return http.get(port, "127.0.0.1", uri)
        .send()
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private static HttpResponse<Buffer> post(
      WebClient http, int port, String uri, JsonObject body, String token) throws Exception {
    var req = http.post(port, "127.0.0.1", uri);
    if (token != null) {
      req.putHeader("Authorization", "Bearer " + token);
    }
    return req.sendJsonObject(body)
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }
}

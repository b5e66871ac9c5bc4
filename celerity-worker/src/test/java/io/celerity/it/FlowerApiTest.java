package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Flower's API on the bridge, against a real worker and a real Python Celery worker on one broker:
 * the task history comes from Celery's events, so the Python worker's tasks are there too.
 */
class FlowerApiTest extends AmqpTestBase {

  private static final String TOKEN = "fl0wer-fl0wer-fl0wer";

  @Override
  protected String queuePrefix() {
    return "flower";
  }

  @Test
  void flowersEndpointsServeTheWholeFleetFromEvents() throws Exception {
    startWorker(new JsonObject().put("task_events", true).put("http_token", TOKEN));
    WebClient http = WebClient.create(vertx);
    int port = worker.httpPort();
    String pyQueue = queue + "-py";
    try (PythonWorker py =
        PythonWorker.startMonitored(Brokers.AMQP_URL, Brokers.REDIS_URL, pyQueue)) {
      List<Map<String, Object>> ours =
          client.call(
              List.of(
                  CeleryClient.call("examples.add", List.of(2, 2), Map.of()),
                  CeleryClient.call("examples.fail", List.of("boom"), Map.of())));
      List<Map<String, Object>> theirs =
          new CeleryClient(Brokers.AMQP_URL, Brokers.REDIS_URL, pyQueue)
              .call(List.of(CeleryClient.call("examples.mul", List.of(3, 5), Map.of())));
      String addId = (String) ours.get(0).get("id");
      String failId = (String) ours.get(1).get("id");
      String mulId = (String) theirs.get(0).get("id");

      Polling.until(
          () -> {
            JsonObject t = get(http, port, "/api/tasks").bodyAsJsonObject();
            return t.containsKey(mulId)
                && "SUCCESS".equals(t.getJsonObject(mulId).getString("state"))
                && t.containsKey(failId)
                && "FAILURE".equals(t.getJsonObject(failId).getString("state"))
                && t.containsKey(addId)
                && "SUCCESS".equals(t.getJsonObject(addId).getString("state"));
          },
          30_000);
      JsonObject tasks = get(http, port, "/api/tasks").bodyAsJsonObject();
      JsonObject add = tasks.getJsonObject(addId);
      assertEquals("examples.add", add.getString("name"));
      assertEquals("[2, 2]", add.getString("args"));
      assertEquals("4", add.getString("result"));
      assertEquals(node(), add.getString("worker"));
      assertNotNull(add.getDouble("runtime"));
      assertNotNull(add.getDouble("received"));
      for (String field :
          List.of(
              "uuid",
              "name",
              "state",
              "received",
              "sent",
              "started",
              "rejected",
              "succeeded",
              "failed",
              "retried",
              "revoked",
              "args",
              "kwargs",
              "eta",
              "expires",
              "retries",
              "worker",
              "result",
              "exception",
              "timestamp",
              "runtime",
              "traceback",
              "exchange",
              "routing_key",
              "clock",
              "client",
              "root",
              "root_id",
              "parent",
              "parent_id",
              "children")) {
        assertTrue(add.containsKey(field), "Flower's task field " + field + " in " + add);
      }
      JsonObject mul = tasks.getJsonObject(mulId);
      assertTrue(mul.getString("worker").startsWith("py-" + pyQueue + "@"), mul.encode());
      assertEquals("15", mul.getString("result"));

      JsonObject failed =
          get(http, port, "/api/tasks?taskname=examples.fail&state=FAILURE").bodyAsJsonObject();
      assertEquals(List.of(failId), List.copyOf(failed.fieldNames()));
      assertEquals("ValueError('boom')", failed.getJsonObject(failId).getString("exception"));
      assertEquals(1, get(http, port, "/api/tasks?limit=1").bodyAsJsonObject().size());
      assertEquals(
          List.of(mulId),
          List.copyOf(
              get(http, port, "/api/tasks?workername=" + mul.getString("worker"))
                  .bodyAsJsonObject()
                  .fieldNames()));
      assertTrue(
          get(http, port, "/api/task/types")
              .bodyAsJsonObject()
              .getJsonArray("task-types")
              .contains("examples.mul"));

      JsonObject info = get(http, port, "/api/task/info/" + mulId).bodyAsJsonObject();
      assertEquals(mulId, info.getString("uuid"));
      assertEquals("SUCCESS", info.getString("state"));
      HttpResponse<Buffer> unknown = get(http, port, "/api/task/info/no-such-id");
      assertEquals(404, unknown.statusCode());
      assertEquals("Unknown task 'no-such-id'", unknown.bodyAsJsonObject().getString("error"));

      JsonObject alive = get(http, port, "/api/workers?status=1").bodyAsJsonObject();
      assertEquals(true, alive.getBoolean(node()));
      assertEquals(true, alive.getBoolean(mul.getString("worker")), alive.encode());
      JsonObject workers = get(http, port, "/api/workers").bodyAsJsonObject();
      JsonObject me = workers.getJsonObject(node());
      assertTrue(me.getJsonArray("registered").contains("examples.add"));
      assertEquals(
          4, me.getJsonObject("stats").getJsonObject("pool").getInteger("max-concurrency"));
      assertEquals(queue, me.getJsonArray("active_queues").getJsonObject(0).getString("name"));
      assertTrue(workers.containsKey(mul.getString("worker")), workers.encode());
      assertEquals(404, get(http, port, "/api/workers?workername=nobody@nowhere").statusCode());

      JsonArray lengths =
          get(http, port, "/api/queues/length").bodyAsJsonObject().getJsonArray("active_queues");
      assertEquals(
          new JsonObject().put("name", queue).put("messages", 0L), lengths.getJsonObject(0));
    }

    // revoke with terminate: refused without the token, then broadcast and the running task ends
    // REVOKED
    String sleepId =
        (String)
            client
                .send(List.of(CeleryClient.call("examples.sleep", List.of(60), Map.of())))
                .get(0)
                .get("id");
    Polling.until(
        () -> {
          JsonObject t = get(http, port, "/api/task/info/" + sleepId).bodyAsJsonObject();
          return "STARTED".equals(t.getString("state"));
        },
        30_000);
    assertEquals(
        401,
        post(http, port, "/api/task/revoke/" + sleepId + "?terminate=true", null).statusCode());
    HttpResponse<Buffer> revoked =
        post(http, port, "/api/task/revoke/" + sleepId + "?terminate=true", TOKEN);
    assertEquals(200, revoked.statusCode());
    assertEquals("Revoked '" + sleepId + "'", revoked.bodyAsJsonObject().getString("message"));
    Polling.until(
        () ->
            "REVOKED"
                .equals(
                    get(http, port, "/api/task/info/" + sleepId)
                        .bodyAsJsonObject()
                        .getString("state")),
        30_000);

    // async-apply: 404 for a name nobody knows, as Flower; send-task sends any name
    HttpResponse<Buffer> noTask = post(http, port, "/api/task/async-apply/no.such.task", TOKEN);
    assertEquals(404, noTask.statusCode());
    assertEquals("Unknown task 'no.such.task'", noTask.bodyAsJsonObject().getString("error"));
    assertEquals(200, post(http, port, "/api/task/async-apply/examples.add", TOKEN).statusCode());
    assertEquals(200, post(http, port, "/api/task/send-task/no.such.task", TOKEN).statusCode());

    // the router's own errors are JSON too, never an HTML page; an unknown path needs the token
    // first
    assertEquals(401, get(http, port, "/api/nothing-here").statusCode());
    HttpResponse<Buffer> missing =
        http.get(port, "127.0.0.1", "/api/nothing-here")
            .putHeader("Authorization", "Bearer " + TOKEN)
            .send()
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertEquals(404, missing.statusCode());
    assertEquals("application/json", missing.getHeader("content-type"));
    assertTrue(missing.bodyAsJsonObject().getString("error").contains("/api/nothing-here"));
    HttpResponse<Buffer> wrongMethod =
        http.delete(port, "127.0.0.1", "/api/tasks")
            .putHeader("Authorization", "Bearer " + TOKEN)
            .send()
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertEquals(405, wrongMethod.statusCode());
    assertNotNull(wrongMethod.bodyAsJsonObject().getString("error"));
  }

  /**
   * On a Redis broker the monitor subscribes to kombu's celeryev fanout channel: the worker's own
   * tasks show up.
   */
  @Test
  void onRedisTheHistoryComesThroughThePubSubChannel() throws Exception {
    worker =
        WorkerHarness.start(
            vertx,
            WorkerHarness.config(Brokers.REDIS_BROKER_URL, Brokers.REDIS_RESULTS_URL, queue)
                .put("task_events", true));
    WebClient http = WebClient.create(vertx);
    String id =
        (String)
            new CeleryClient(Brokers.REDIS_BROKER_URL, Brokers.REDIS_RESULTS_URL, queue)
                .call(List.of(CeleryClient.call("examples.add", List.of(20, 22), Map.of())))
                .get(0)
                .get("id");
    Polling.until(
        () ->
            "SUCCESS"
                .equals(
                    get(http, worker.httpPort(), "/api/task/info/" + id)
                        .bodyAsJsonObject()
                        .getString("state")),
        30_000);
    assertEquals(
        "42",
        get(http, worker.httpPort(), "/api/task/info/" + id)
            .bodyAsJsonObject()
            .getString("result"));
    JsonArray seen =
        get(http, worker.httpPort(), "/dashboard/api/state")
            .bodyAsJsonObject()
            .getJsonArray("workers");
    assertTrue(
        seen.stream()
            .anyMatch(
                w ->
                    node().equals(((JsonObject) w).getString("hostname"))
                        && "ONLINE".equals(((JsonObject) w).getString("status"))),
        "seen through its own events: " + seen);
    JsonArray lengths =
        get(http, worker.httpPort(), "/api/queues/length")
            .bodyAsJsonObject()
            .getJsonArray("active_queues");
    assertEquals(new JsonObject().put("name", queue).put("messages", 0L), lengths.getJsonObject(0));
  }

  static HttpResponse<Buffer> get(WebClient http, int port, String uri) throws Exception {
    return http.get(port, "127.0.0.1", uri)
        .send()
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  static HttpResponse<Buffer> post(WebClient http, int port, String uri, String token)
      throws Exception {
    var req = http.post(port, "127.0.0.1", uri);
    if (token != null) {
      req.putHeader("Authorization", "Bearer " + token);
    }
    return req.sendJsonObject(new JsonObject().put("args", new JsonArray().add(1).add(2)))
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }
}

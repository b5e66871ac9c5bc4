package io.celerity.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.Addresses;
import io.celerity.WorkerVerticle;
import io.celerity.it.TcpProxy;
import io.celerity.metrics.WorkerMetrics;
import io.celerity.protocol.TaskMessages;
import io.celerity.support.Polling;
import io.celerity.task.TaskRegistry;
import io.celerity.transport.memory.MemoryBroker;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.ResultStats;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Results are durable before acks: with the Redis result backend unreachable (a proxy that refuses
 * connections), writes are retried, {@code /ready} says NOT_READY, and with acks_late a message
 * whose result could not be stored goes back to the broker instead of being acked.
 */
@ExtendWith(VertxExtension.class)
class ResultBackendOutageIT {

  private final String brokerName = "outage-" + UUID.randomUUID();
  private final AtomicInteger runs = new AtomicInteger();
  private final TaskRegistry registry =
      new TaskRegistry()
          .register(
              "t.add",
              ctx -> {
                runs.incrementAndGet();
                return ctx.arg(0, Long.class) + ctx.arg(1, Long.class);
              });
  private final HttpClient http = HttpClient.newHttpClient();
  private TcpProxy proxy;
  private WorkerVerticle worker;
  private Vertx vertx;

  @AfterEach
  void tearDown() throws Exception {
    if (worker != null) {
      worker.shutdown(false).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    if (proxy != null) {
      proxy.close();
    }
  }

  private void deploy(Vertx vertx, JsonObject retryPolicy) throws Exception {
    deploy(vertx, retryPolicy, true);
  }

  private void deploy(Vertx vertx, JsonObject retryPolicy, boolean acksLate) throws Exception {
    this.vertx = vertx;
    proxy = new TcpProxy(vertx, "127.0.0.1", 6379);
    JsonObject conf =
        new JsonObject()
            .put("broker", "memory://" + brokerName)
            .put("result_backend", "redis://127.0.0.1:" + proxy.port() + "/9")
            .put(
                "result_backend_transport_options",
                new JsonObject().put("retry_policy", retryPolicy))
            .put("queues", new JsonArray().add("celery"))
            .put("concurrency", 1)
            .put("http_port", 0)
            .put("load_examples", false)
            .put("acks_late", acksLate);
    worker = new WorkerVerticle(registry);
    vertx
        .deployVerticle(worker, new DeploymentOptions().setConfig(conf))
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  private String send() {
    OutgoingMessage m =
        TaskMessages.create("t.add", List.of(2, 2), Map.of(), "celery", "test", null, null, null);
    MemoryBroker.named(brokerName).publish(m);
    return TaskMessages.id(m);
  }

  private HttpResponse<String> ready() throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + worker.httpPort() + "/ready"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private <T> T ask(String address, Object body) throws Exception {
    return vertx
        .eventBus()
        .<T>request(address, body)
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS)
        .body();
  }

  @Test
  void aWriteRetriedUntilRedisIsBackIsStoredAndTheTaskRunsOnce(Vertx vertx) throws Exception {
    // up to 200 retries 50 ms apart: longer than the outage below
    deploy(
        vertx,
        new JsonObject()
            .put("max_retries", 200)
            .put("interval_start", 0.05)
            .put("interval_step", 0)
            .put("interval_max", 0));
    assertEquals(200, ready().statusCode(), ready().body());
    proxy.cut(true);
    String id = send();
    Polling.until(
        () -> this.<ResultStats>ask(Addresses.RESULT_STATS, null).writeRetries() >= 3, 10_000);
    HttpResponse<String> down = ready();
    assertEquals(503, down.statusCode(), down.body());
    assertEquals(
        false, new JsonObject(down.body()).getJsonObject("result_backend").getBoolean("up"));
    assertTrue(WorkerMetrics.of(vertx).scrape().contains("celerity_result_backend_up 0.0"));

    proxy.accept();
    Polling.until(
        () -> {
          JsonObject doc = ask(Addresses.RESULT_GET, id);
          return doc != null && "SUCCESS".equals(doc.getString("status"));
        },
        15_000);
    Polling.until(() -> ready().statusCode() == 200, 10_000);
    assertEquals(1, runs.get(), "stored on a retry, then acked: the task ran once");
    assertEquals(0L, this.<ResultStats>ask(Addresses.RESULT_STATS, null).resultsLost());
  }

  @Test
  void withAcksLateAResultThatCannotBeStoredRequeuesTheMessage(Vertx vertx) throws Exception {
    deploy(
        vertx,
        new JsonObject()
            .put("max_retries", 2)
            .put("interval_start", 0.01)
            .put("interval_step", 0)
            .put("interval_max", 0));
    proxy.cut(true);
    String id = send();
    // given up, requeued, delivered again and run again
    Polling.until(() -> runs.get() >= 2, 15_000);
    ResultStats stats = ask(Addresses.RESULT_STATS, null);
    assertTrue(stats.resultsLost() >= 1, stats.toString());
    assertTrue(stats.writesGivenUp() >= 1, stats.toString());
    HttpResponse<String> down = ready();
    assertEquals(503, down.statusCode(), down.body());
    String scrape = WorkerMetrics.of(vertx).scrape();
    assertTrue(
        scrape
            .lines()
            .anyMatch(
                l -> l.startsWith("celerity_result_write_failures_total") && !l.endsWith(" 0.0")),
        scrape);

    proxy.accept(); // the next delivery stores its result and is acked
    Polling.until(
        () -> {
          JsonObject doc = ask(Addresses.RESULT_GET, id);
          return doc != null && "SUCCESS".equals(doc.getString("status"));
        },
        15_000);
    Polling.until(() -> ready().statusCode() == 200, 10_000);
  }

  /**
   * Without acks_late the message was acked when the task started: the lost result is counted and
   * logged, nothing runs again.
   */
  @Test
  void withoutAcksLateALostResultIsCountedAndTheTaskIsNotRunAgain(Vertx vertx) throws Exception {
    deploy(
        vertx,
        new JsonObject()
            .put("max_retries", 2)
            .put("interval_start", 0.01)
            .put("interval_step", 0)
            .put("interval_max", 0),
        false);
    proxy.cut(true);
    send();
    Polling.until(
        () -> this.<ResultStats>ask(Addresses.RESULT_STATS, null).resultsLost() == 1, 15_000);
    proxy.accept();
    String next = send(); // behind a redelivered copy of the first, had there been one
    Polling.until(
        () -> {
          JsonObject doc = ask(Addresses.RESULT_GET, next);
          return doc != null && "SUCCESS".equals(doc.getString("status"));
        },
        15_000);
    assertEquals(2, runs.get(), "the first task ran once, the second once");
  }
}

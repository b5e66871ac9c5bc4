package io.celerity.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkerOptionsTest {

  private static final String HOST = WorkerOptions.defaultHostname().substring("celery@".length());

  private static WorkerOptions of(String key, Object value) {
    return new WorkerOptions(new JsonObject().put(key, value));
  }

  @Test
  void defaultHostnameIsCeleryAtHost() {
    assertTrue(WorkerOptions.defaultHostname().startsWith("celery@"));
    assertEquals(WorkerOptions.defaultHostname(), new WorkerOptions().getHostname());
    assertTrue(!HOST.isEmpty());
  }

  @Test
  void percentHIsExpanded() {
    assertEquals("w1@" + HOST, of("hostname", "w1@%h").getHostname());
  }

  @Test
  void percentNIsTheShortHostName() {
    assertEquals("w1@" + HOST.split("\\.")[0], of("hostname", "w1@%n").getHostname());
  }

  @Test
  void fullNodeNameIsKept() {
    assertEquals("w2@vm", of("hostname", "w2@vm").getHostname());
  }

  /**
   * Celery 5.2 ({@code celery/utils/nodenames.py}, {@code default_nodename}): a name without '@' is
   * the <em>host</em> part, the node name defaults to {@code celery}: {@code -n worker1} gives
   * {@code celery@worker1}.
   */
  @Test
  void bareNameIsTheHostPartLikeCelery() {
    assertEquals("celery@worker1", of("hostname", "worker1").getHostname());
  }

  /** Celery: {@code -n %h} gives {@code celery@<host>}. */
  @Test
  void bareHostPlaceholderGetsTheDefaultNodeName() {
    assertEquals("celery@" + HOST, of("hostname", "%h").getHostname());
  }

  @Test
  void queuesFromACommaString() {
    assertEquals(List.of("a", "b", "c"), of("queues", " a, b ,,c ").getQueues());
    assertEquals(List.of("only"), of("queues", "only").getQueues());
  }

  @Test
  void queuesFromAnArray() {
    assertEquals(List.of("a", "b"), of("queues", new JsonArray().add("a").add(" b")).getQueues());
  }

  @Test
  void emptyQueueListIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> of("queues", " , "));
  }

  @Test
  void unknownPoolIsRejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> of("pool", "prefork"));
    assertTrue(e.getMessage().contains("prefork"), e.getMessage());
  }

  @Test
  void knownPoolsAreAccepted() {
    for (String p : List.of("threads", "solo", "virtual")) {
      assertEquals(p, of("pool", p).getPool());
    }
  }

  @Test
  void zeroOrNegativeConcurrencyIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> of("concurrency", 0));
    assertThrows(IllegalArgumentException.class, () -> of("concurrency", -2));
  }

  @Test
  void negativePrefetchMultiplierIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> of("prefetch_multiplier", -1));
  }

  @Test
  void prefetchCountIsConcurrencyTimesMultiplier() {
    WorkerOptions o =
        new WorkerOptions(new JsonObject().put("concurrency", 3).put("prefetch_multiplier", 5));
    assertEquals(15, o.getPrefetchCount());
    assertEquals(12, of("concurrency", 3).getPrefetchCount());
    // multiplier 0 means unlimited, as in Celery
    assertEquals(
        0,
        new WorkerOptions(new JsonObject().put("concurrency", 3).put("prefetch_multiplier", 0))
            .getPrefetchCount());
  }

  @Test
  void soloPoolForcesConcurrencyOne() {
    WorkerOptions o = new WorkerOptions(new JsonObject().put("pool", "solo").put("concurrency", 8));
    assertEquals(1, o.getConcurrency());
    assertEquals(4, o.getPrefetchCount());
  }

  @Test
  void nonPositiveTimeLimitsMeanNoLimit() {
    WorkerOptions o =
        new WorkerOptions(new JsonObject().put("time_limit", 0).put("soft_time_limit", -1));
    assertNull(o.getTimeLimit());
    assertNull(o.getSoftTimeLimit());
    assertEquals(30.0, of("time_limit", 30).getTimeLimit());
  }

  @Test
  void appAcceptsCommaStringOrArray() {
    assertEquals(
        List.of("com.x.Tasks", "com.y.More"), of("app", "com.x.Tasks,com.y.More").getApps());
    assertEquals(List.of("com.x.Tasks"), of("app", new JsonArray().add("com.x.Tasks")).getApps());
  }

  @Test
  void toJsonRoundTrips() {
    JsonObject in =
        new JsonObject()
            .put("broker", "amqp://h//")
            .put("result_backend", "redis://h/1")
            .put("queues", "a,b")
            .put("concurrency", 6)
            .put("pool", "virtual")
            .put("hostname", "w9@box")
            .put("prefetch_multiplier", 2)
            .put("time_limit", 10.5)
            .put("soft_time_limit", 9)
            .put("task_events", true)
            .put("acks_late", true)
            .put("track_started", true)
            .put("result_extended", true)
            .put("result_expires", 60)
            .put("queue_max_priority", 10)
            .put("load_examples", false)
            .put("http_port", 0);
    WorkerOptions a = new WorkerOptions(in);
    WorkerOptions b = new WorkerOptions(a.toJson());
    assertEquals(a.toJson(), b.toJson());
    assertEquals("w9@box", b.getHostname());
    assertEquals(List.of("a", "b"), b.getQueues());
    assertEquals(6, b.getConcurrency());
    assertEquals(12, b.getPrefetchCount());
    assertEquals(10.5, b.getTimeLimit());
    assertEquals(9.0, b.getSoftTimeLimit());
    assertEquals(10, b.getQueueMaxPriority());
    assertEquals(60, b.getResultExpires());
    assertTrue(b.isTaskEvents() && b.isAcksLate() && b.isTrackStarted() && b.isResultExtended());
    assertEquals(false, b.isLoadExamples());
  }

  @Test
  void brokerConnectionRetryOnStartupFollowsCeleryDefaults() {
    WorkerOptions d = new WorkerOptions(new JsonObject());
    assertTrue(d.isBrokerConnectionRetryOnStartup(), "Celery retries at start-up by default");
    assertEquals(100, d.getBrokerConnectionMaxRetries());
    WorkerOptions o =
        new WorkerOptions(
            new JsonObject()
                .put("broker_connection_retry_on_startup", false)
                .put("broker_connection_max_retries", 3));
    assertEquals(false, o.isBrokerConnectionRetryOnStartup());
    assertEquals(3, new WorkerOptions(o.toJson()).getBrokerConnectionMaxRetries());
  }

  @Test
  void httpTokenShorterThanSixteenCharactersIsRefused() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> of("http_token", "change-me"));
    assertTrue(e.getMessage().contains("at least 16"), e.getMessage());
    assertEquals("0123456789abcdef", of("http_token", "0123456789abcdef").getHttpToken());
  }

  @Test
  void readsNeedTheTokenByDefaultOnlyBeyondLoopback() throws Exception {
    assertEquals(false, new WorkerOptions().isHttpRequireTokenForReads());
    assertEquals(true, of("http_host", "0.0.0.0").isHttpRequireTokenForReads());
    assertEquals(
        false,
        new WorkerOptions(
                new JsonObject()
                    .put("http_host", "0.0.0.0")
                    .put("http_require_token_for_reads", false))
            .isHttpRequireTokenForReads());
    WorkerOptions fromEnv =
        new WorkerOptions(
            ConfigLoader.load(
                null,
                false,
                java.util.Map.of(
                    "CELERITY_HTTP_REQUIRE_TOKEN_FOR_READS",
                    "true",
                    "CELERITY_HTTP_ALLOWED_HOSTS",
                    "a.example, .svc.local",
                    "CELERITY_HTTP_CORS_ORIGINS",
                    "https://ops.example.com"),
                new JsonObject()));
    assertEquals(true, fromEnv.isHttpRequireTokenForReads());
    assertEquals(List.of("a.example", ".svc.local"), fromEnv.getHttpAllowedHosts());
    assertEquals(List.of("https://ops.example.com"), fromEnv.getHttpCorsOrigins());
  }
}

package io.celerity.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @TempDir Path dir;

  private Path file(String json) throws IOException {
    Path f = dir.resolve("worker.json");
    Files.writeString(f, json);
    return f;
  }

  private static WorkerOptions options(JsonObject merged) {
    return new WorkerOptions(merged);
  }

  @Test
  void defaultsWhenNothingIsGiven() throws IOException {
    JsonObject c = ConfigLoader.load(dir.resolve("absent.json"), false, Map.of(), new JsonObject());
    WorkerOptions o = options(c);
    assertEquals("memory://", o.getBroker());
    assertEquals("memory://", o.getResultBackend());
    assertEquals(List.of("celery"), o.getQueues());
    assertEquals("threads", o.getPool());
    assertEquals(4, o.getPrefetchMultiplier());
    assertEquals(86400, o.getResultExpires());
    assertNull(o.getTimeLimit());
    assertFalse(o.isTaskEvents());
    // the host name is not frozen into the merged defaults
    assertFalse(c.containsKey("hostname"));
  }

  @Test
  void precedenceDefaultsFileEnvFlags() throws IOException {
    Path f =
        file(
            "{\"broker\": \"amqp://file//\", \"result_backend\": \"redis://file/1\","
                + " \"loglevel\": \"DEBUG\", \"http_port\": 9000}");
    Map<String, String> env =
        Map.of(
            "CELERITY_BROKER", "amqp://env//",
            "CELERITY_RESULT_BACKEND", "redis://env/2");
    JsonObject flags = new JsonObject().put("broker", "amqp://flag//");

    WorkerOptions o = options(ConfigLoader.load(f, true, env, flags));
    assertEquals("amqp://flag//", o.getBroker()); // flag > env > file
    assertEquals("redis://env/2", o.getResultBackend()); // env > file
    assertEquals("DEBUG", o.getLoglevel()); // file > default
    assertEquals(9000, o.getHttpPort()); // file > default
    assertEquals("127.0.0.1", o.getHttpHost()); // default
  }

  @Test
  void fileOverridesDefaultsOnlyForItsKeys() throws IOException {
    Path f = file("{\"queues\": [\"a\", \"b\"], \"acks_late\": true}");
    WorkerOptions o = options(ConfigLoader.load(f, false, Map.of(), new JsonObject()));
    assertEquals(List.of("a", "b"), o.getQueues());
    assertTrue(o.isAcksLate());
    assertEquals(4, o.getPrefetchMultiplier());
  }

  @Test
  void envIntegerIsTypedAsANumber() throws IOException {
    JsonObject c =
        ConfigLoader.load(null, false, Map.of("CELERITY_CONCURRENCY", "3"), new JsonObject());
    assertInstanceOf(Number.class, c.getValue("concurrency"));
    assertEquals(3, c.getInteger("concurrency"));
    assertEquals(3, options(c).getConcurrency());
    assertEquals(12, options(c).getPrefetchCount());
  }

  @Test
  void envBooleanIsTypedAsBoolean() throws IOException {
    for (String yes : List.of("true", "TRUE", "1", "yes")) {
      JsonObject c =
          ConfigLoader.load(null, false, Map.of("CELERITY_TASK_EVENTS", yes), new JsonObject());
      assertEquals(Boolean.TRUE, c.getValue("task_events"), yes);
      assertTrue(options(c).isTaskEvents());
    }
    JsonObject c =
        ConfigLoader.load(null, false, Map.of("CELERITY_ACKS_LATE", "false"), new JsonObject());
    assertEquals(Boolean.FALSE, c.getValue("acks_late"));
  }

  @Test
  void envDecimalForAnUnsetLimitIsADouble() throws IOException {
    JsonObject c =
        ConfigLoader.load(null, false, Map.of("CELERITY_TIME_LIMIT", "2.5"), new JsonObject());
    assertEquals(2.5, c.getValue("time_limit"));
    assertEquals(2.5, options(c).getTimeLimit());
  }

  @Test
  void envWholeNumberForALimitStillWorks() throws IOException {
    JsonObject c =
        ConfigLoader.load(
            null,
            false,
            Map.of("CELERITY_TIME_LIMIT", "60", "CELERITY_SOFT_TIME_LIMIT", "50"),
            new JsonObject());
    assertEquals(60.0, options(c).getTimeLimit());
    assertEquals(50.0, options(c).getSoftTimeLimit());
  }

  @Test
  void envQueuesFromACommaString() throws IOException {
    JsonObject c =
        ConfigLoader.load(
            null, false, Map.of("CELERITY_QUEUES", "celery, extraq"), new JsonObject());
    assertEquals(List.of("celery", "extraq"), options(c).getQueues());
  }

  @Test
  void envStringsStayStrings() throws IOException {
    JsonObject c =
        ConfigLoader.load(
            null,
            false,
            Map.of(
                "CELERITY_BROKER",
                "amqp://guest:guest@127.0.0.1:5672//",
                "CELERITY_HTTP_HOST",
                "0.0.0.0",
                "CELERITY_HOSTNAME",
                "w1@%h"),
            new JsonObject());
    assertEquals("amqp://guest:guest@127.0.0.1:5672//", c.getString("broker"));
    assertEquals("0.0.0.0", c.getString("http_host"));
    assertEquals("w1@%h", c.getString("hostname"));
  }

  @Test
  void unrelatedAndHomeVariablesAreIgnored() throws IOException {
    JsonObject c =
        ConfigLoader.load(
            null,
            false,
            Map.of("CELERITY_HOME", "/opt/celerity", "PATH", "/usr/bin", "BROKER", "amqp://x//"),
            new JsonObject());
    assertFalse(c.containsKey("home"));
    assertFalse(c.containsKey("path"));
    assertEquals("memory://", c.getString("broker"));
  }

  @Test
  void envOverridesFileAndFlagsOverrideEnvForTypedValues() throws IOException {
    Path f = file("{\"concurrency\": 2, \"task_events\": false}");
    JsonObject c =
        ConfigLoader.load(
            f,
            true,
            Map.of("CELERITY_CONCURRENCY", "5", "CELERITY_TASK_EVENTS", "true"),
            new JsonObject().put("concurrency", 7));
    WorkerOptions o = options(c);
    assertEquals(7, o.getConcurrency());
    assertTrue(o.isTaskEvents());
  }

  @Test
  void flagQueuesAsArray() throws IOException {
    JsonObject c =
        ConfigLoader.load(
            null,
            false,
            Map.of("CELERITY_QUEUES", "x"),
            new JsonObject().put("queues", new JsonArray().add("q1").add("q2")));
    assertEquals(List.of("q1", "q2"), options(c).getQueues());
  }

  @Test
  void missingRequiredConfigFileIsAnError() {
    Path missing = dir.resolve("nope.json");
    IOException e =
        assertThrows(
            IOException.class, () -> ConfigLoader.load(missing, true, Map.of(), new JsonObject()));
    assertTrue(e.getMessage().contains("nope.json"), e.getMessage());
  }

  @Test
  void missingOptionalConfigFileIsFine() throws IOException {
    JsonObject c = ConfigLoader.load(dir.resolve("nope.json"), false, Map.of(), new JsonObject());
    assertEquals("memory://", c.getString("broker"));
  }

  @Test
  void invalidEnvNumberIsRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ConfigLoader.load(
                null, false, Map.of("CELERITY_CONCURRENCY", "many"), new JsonObject()));
  }

  @Test
  void numericLookingTextStaysTextWhereASettingIsText() throws Exception {
    JsonObject conf =
        ConfigLoader.load(
            null,
            false,
            Map.of(
                "CELERITY_HTTP_TOKEN",
                "1234567890123456",
                "CELERITY_HOSTNAME",
                "2024",
                "CELERITY_TIME_LIMIT",
                "30"),
            new JsonObject());
    assertEquals("1234567890123456", conf.getValue("http_token"));
    assertEquals("2024", conf.getValue("hostname"));
    assertEquals(30.0, conf.getValue("time_limit")); // typed as the setting is, a number of seconds
    WorkerOptions o = new WorkerOptions(conf);
    assertEquals("celery@2024", o.getHostname());
    assertEquals(30.0, o.getTimeLimit());
  }

  /**
   * The result write retry settings and the abandoned-thread cap, from the environment and the
   * file.
   */
  @Test
  void resultRetrySettingsAndAbandonedThreadCap() throws IOException {
    JsonObject c =
        ConfigLoader.load(
            file(
                "{\"result_backend_transport_options\": {\"retry_policy\": {\"max_retries\": 3}}}"),
            false,
            Map.of(
                "CELERITY_RESULT_BACKEND_ALWAYS_RETRY",
                "true",
                "CELERITY_RESULT_BACKEND_MAX_RETRIES",
                "5",
                "CELERITY_MAX_ABANDONED_THREADS",
                "2"),
            new JsonObject().put("concurrency", 7));
    WorkerOptions o = options(c);
    io.celerity.backend.WriteRetryPolicy p = o.getResultWriteRetryPolicy();
    assertEquals(3, p.maxRetries());
    assertEquals(1000, p.innerDelayMillis(1), "the rest of Celery's retry_policy stays");
    assertTrue(p.alwaysRetry());
    assertEquals(5, p.outerMaxRetries());
    assertEquals(2, o.getMaxAbandonedThreads());
    // by default the cap follows the concurrency, also when the concurrency comes from a flag
    WorkerOptions d =
        options(
            ConfigLoader.load(
                dir.resolve("absent.json"),
                false,
                Map.of(),
                new JsonObject().put("concurrency", 7)));
    assertEquals(7, d.getMaxAbandonedThreads());
    assertEquals(20, d.getResultWriteRetryPolicy().maxRetries());
  }
}

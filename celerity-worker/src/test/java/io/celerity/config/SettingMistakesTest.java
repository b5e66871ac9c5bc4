package io.celerity.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A typo in a setting stops the worker with a message naming the key and the setting probably
 * meant.
 */
class SettingMistakesTest {

  @TempDir Path dir;

  /** The message refusing a worker.json with this content. */
  private String refusedFile(String json) throws IOException {
    Path f = Files.writeString(dir.resolve("worker.json"), json);
    return assertThrows(
            SettingException.class, () -> ConfigLoader.load(f, true, Map.of(), new JsonObject()))
        .getMessage();
  }

  private static String refusedEnv(String name, String value) {
    return assertThrows(
            SettingException.class,
            () -> ConfigLoader.load(null, false, Map.of(name, value), new JsonObject()))
        .getMessage();
  }

  @Test
  void unknownKeyInTheFileNamesItTheFileAndTheClosestSetting() throws IOException {
    String m = refusedFile("{\"concurency\": 4}");
    assertEquals(
        "unknown setting 'concurency' in "
            + dir.resolve("worker.json")
            + "; did you mean 'concurrency'?",
        m);
    assertTrue(
        refusedFile("{\"prefetch_multiplyer\": 8}")
            .endsWith("did you mean 'prefetch_multiplier'?"));
    assertTrue(refusedFile("{\"acks_lat\": true}").endsWith("did you mean 'acks_late'?"));
    assertTrue(
        refusedFile("{\"http_prot\": 9000}").endsWith("did you mean 'http_port'?"),
        "a swap of neighbours is one edit");
  }

  @Test
  void celeryNamesPointToOurs() throws IOException {
    assertTrue(refusedFile("{\"broker_url\": \"amqp://h//\"}").endsWith("did you mean 'broker'?"));
    assertTrue(refusedFile("{\"worker_concurrency\": 2}").endsWith("did you mean 'concurrency'?"));
  }

  @Test
  void aKeyNothingLikeASettingPointsToTheDocs() throws IOException {
    String m = refusedFile("{\"zzzzzz_qqqq\": 1}");
    assertTrue(m.startsWith("unknown setting 'zzzzzz_qqqq'"), m);
    assertTrue(m.contains("docs/configuration.md"), m);
    assertFalse(m.contains("did you mean"), m);
  }

  @Test
  void wrongTypeInTheFileNamesTheKeyTheTypeAndTheValue() throws IOException {
    assertEquals(
        "setting 'concurrency' in "
            + dir.resolve("worker.json")
            + " must be a whole number, not \"eight\"",
        refusedFile("{\"concurrency\": \"eight\"}"));
    assertTrue(
        refusedFile("{\"acks_late\": \"yes\"}").contains("'acks_late'"),
        "a boolean is true or false in JSON");
    assertTrue(refusedFile("{\"acks_late\": \"yes\"}").contains("must be true or false"));
    assertTrue(refusedFile("{\"queues\": {\"a\": 1}}").contains("must be a list"));
    assertTrue(
        refusedFile("{\"broker_transport_options\": [1]}").contains("must be a JSON object"));
    assertTrue(refusedFile("{\"concurrency\": 2.5}").contains("must be a whole number, not 2.5"));
    assertTrue(
        refusedFile("{\"concurrency\": \"8\"}").contains("must be a whole number, not \"8\""),
        "in JSON, text is text");
  }

  @Test
  void aFileThatIsNotJsonSaysSo() throws IOException {
    String m = refusedFile("{concurrency: 4");
    assertTrue(m.startsWith(dir.resolve("worker.json") + " is not a JSON object"), m);
  }

  @Test
  void unknownVariableNamesItAndTheClosestVariable() {
    assertEquals(
        "unknown environment variable CELERITY_CONCURENCY; did you mean CELERITY_CONCURRENCY?",
        refusedEnv("CELERITY_CONCURENCY", "4"));
    assertTrue(
        refusedEnv("CELERITY_BROKER_URL", "amqp://h//").endsWith("did you mean CELERITY_BROKER?"));
    assertTrue(
        refusedEnv("CELERITY_concurrency", "4").endsWith("did you mean CELERITY_CONCURRENCY?"),
        "names are upper case");
  }

  @Test
  void toolingVariablesAreNotSettings() throws IOException {
    JsonObject c =
        ConfigLoader.load(
            null,
            false,
            Map.of(
                "CELERITY_HOME",
                "/opt/celerity",
                "CELERITY_JAR",
                "x.jar",
                "CELERITY_TEST_BROKER",
                "amqp://t//",
                "CELERITY_COMPOSE_HTTP_PORT",
                "1",
                "CELERITY_FIXTURE_VHOST",
                "v"),
            new JsonObject());
    assertEquals("memory://", c.getString("broker"));
  }

  @Test
  void wrongTypeInAVariableNamesItAndTheType() {
    assertEquals(
        "CELERITY_CONCURRENCY=many: concurrency must be a whole number",
        refusedEnv("CELERITY_CONCURRENCY", "many"));
    // a boolean typo used to read as false
    assertEquals(
        "CELERITY_ACKS_LATE=ture: acks_late must be true or false",
        refusedEnv("CELERITY_ACKS_LATE", "ture"));
    assertTrue(
        refusedEnv("CELERITY_BROKER_TRANSPORT_OPTIONS", "{visibility")
            .contains("must be a JSON object"));
  }

  @Test
  void aValueOutsideTheChoicesSuggestsTheClosest() {
    assertEquals(
        "CELERITY_POOL=thread: pool must be one of threads, solo, virtual, process; did you mean 'threads'?",
        refusedEnv("CELERITY_POOL", "thread"));
    assertTrue(refusedEnv("CELERITY_LOGLEVEL", "WARNIG").endsWith("did you mean 'warning'?"));
    assertEquals(
        "DEBUG",
        new WorkerOptions(new JsonObject().put("loglevel", "debug")).getLoglevel(),
        "levels in any case");
    assertEquals(
        "threads",
        new WorkerOptions(new JsonObject().put("pool", "THREADS")).getPool(),
        "the choice as declared");
  }

  @Test
  void embeddedConfigurationsAreCheckedToo() {
    SettingException e =
        assertThrows(
            SettingException.class,
            () -> new WorkerOptions(new JsonObject().put("acks_late", true).put("tim_limit", 5)));
    assertEquals("unknown setting 'tim_limit'; did you mean 'time_limit'?", e.getMessage());
    assertEquals(
        "setting 'concurrency' must be at least 1, not 0",
        assertThrows(
                SettingException.class,
                () -> new WorkerOptions(new JsonObject().put("concurrency", 0)))
            .getMessage());
  }

  @Test
  void theSecretTokenIsReadButNeverShown() {
    WorkerOptions o = new WorkerOptions(new JsonObject().put("http_token", "s3cret-s3cret-s3cret"));
    assertEquals("s3cret-s3cret-s3cret", o.getHttpToken());
    assertFalse(o.toJson().containsKey("http_token"));
    assertFalse(o.toJson().encode().contains("s3cret-s3cret-s3cret"));
  }

  @Test
  void everySettingReadsBackWhatToJsonWrites() {
    JsonObject json =
        new WorkerOptions(
                new JsonObject()
                    .put("autoscale", "6,2")
                    .put("child_command", "python3 -m x")
                    .put("broker_transport_options", new JsonObject().put("visibility_timeout", 60))
                    .put("time_limit", 3))
            .toJson();
    WorkerOptions again = new WorkerOptions(json);
    assertEquals(json, again.toJson());
    assertEquals(6, again.getConcurrency());
    assertEquals(2, again.getInitialConcurrency());
    assertEquals(java.util.List.of("python3", "-m", "x"), again.getChildCommand());
    assertEquals(3.0, again.getTimeLimit());
  }

  @Test
  void setChecksLikeReading() {
    WorkerOptions o =
        new WorkerOptions().set(Settings.CONCURRENCY, 3).set(Settings.HOSTNAME, "w1@box");
    assertEquals(3, o.getConcurrency());
    assertEquals("w1@box", o.getHostname());
    assertThrows(SettingException.class, () -> o.set(Settings.POOL, "prefork"));
    assertEquals(
        Runtime.getRuntime().availableProcessors(),
        o.set(Settings.CONCURRENCY, null).getConcurrency());
  }

  @Test
  void editDistanceCountsASwapAsOneEdit() {
    assertEquals(1, Settings.distance("http_prot", "http_port"));
    assertEquals(1, Settings.distance("concurency", "concurrency"));
    assertEquals(3, Settings.distance("kitten", "sitting"));
  }
}

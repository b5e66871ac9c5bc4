package io.celerity.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.canvas.Canvas;
import io.celerity.canvas.Launch;
import io.celerity.canvas.Signature;
import io.celerity.protocol.DeliveryFixtures;
import io.celerity.protocol.IsoTime;
import io.celerity.protocol.Json;
import io.celerity.transport.redis.RedisEnvelope;
import io.celerity.types.OutgoingMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The client's messages against those Celery 5.2.6's own client published for the same calls (the
 * captured fixtures): every header in the same order with the same values, the same properties, and
 * the body byte for byte, once ids, times and the origin are masked.
 */
class ClientMessagesTest {

  private static final String OID = "5dc676f8-e253-3248-a6f7-d803e5ab6114";
  private static final String QUEUE = "celerity-fixtures-capture";
  private static final String ORIGIN = "gen1@java";

  /** Ids, times and the origin differ from call to call; everything else must not. */
  static String mask(String text) {
    return text.replaceAll("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>")
        .replaceAll("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\+00:00", "<time>")
        .replaceAll("gen\\d+@[\\w.-]+", "<origin>");
  }

  private static String masked(Object value) {
    return mask(Json.encodeToString(value));
  }

  @SuppressWarnings("unchecked")
  private static void assertSameAsFixture(String fixture, OutgoingMessage m) {
    Map<String, Object> f = DeliveryFixtures.raw("amqp", fixture);
    Map<String, Object> headers = (Map<String, Object>) f.get("headers");
    assertEquals(
        new ArrayList<>(headers.keySet()),
        new ArrayList<>(m.headers().keySet()),
        "header order of " + fixture);
    assertEquals(masked(headers), masked(m.headers()), "headers of " + fixture);
    assertEquals(
        mask((String) f.get("body")),
        mask(new String(m.body(), StandardCharsets.UTF_8)),
        "body of " + fixture);
    Map<String, Object> props = new LinkedHashMap<>((Map<String, Object>) f.get("properties"));
    assertEquals(props.remove("content_type"), m.contentType());
    assertEquals(props.remove("content_encoding"), m.contentEncoding());
    Map<String, Object> ours = new LinkedHashMap<>(m.properties());
    props
        .keySet()
        .forEach(
            k ->
                assertEquals(
                    mask(String.valueOf(props.get(k))),
                    mask(String.valueOf(ours.get(k))),
                    "property " + k + " of " + fixture));
    assertEquals(headers.get("id"), props.get("correlation_id"), "fixture sanity");
    assertEquals(m.headers().get("id"), m.properties().get("correlation_id"));
    assertEquals("", m.exchange());
    assertEquals(QUEUE, m.routingKey());
  }

  private static OutgoingMessage send(
      String name, List<?> args, Map<String, ?> kwargs, SendOptions o) {
    return ClientMessages.task(name, args, kwargs, o, OID, ORIGIN, QUEUE);
  }

  @Test
  void sendTaskIsWhatCelerysClientSends() {
    OutgoingMessage m = send("examples.add", List.of(2, 2), Map.of(), null);
    assertSameAsFixture("add", m);
    assertEquals(
        m.headers().get("id"), m.headers().get("root_id"), "a client's task is its own root");
    assertNull(m.headers().get("parent_id"));
    assertEquals(OID, m.properties().get("reply_to"));
    assertEquals(ORIGIN, m.headers().get("origin"));
  }

  @Test
  void keywordArgumentsAndTheirRepr() {
    assertSameAsFixture(
        "kwargs",
        send(
            "examples.add",
            List.of(),
            new LinkedHashMap<>(Map.of("x", 1)) {
              {
                put("y", 2);
              }
            },
            null));
  }

  @Test
  void everyOptionLandsWhereCeleryPutsIt() {
    Instant before = Instant.now();
    OutgoingMessage m =
        send(
            "examples.add",
            List.of(3, 4),
            Map.of(),
            SendOptions.with()
                .countdown(10)
                .expires(120)
                .priority(5)
                .timeLimit(60)
                .softTimeLimit(50)
                .headers(Map.of("x-custom", "v")));
    assertSameAsFixture("options", m);
    Instant eta = IsoTime.parse((String) m.headers().get("eta"));
    Instant expires = IsoTime.parse((String) m.headers().get("expires"));
    assertTrue(
        !eta.isBefore(before.plusSeconds(10)) && eta.isBefore(Instant.now().plusSeconds(11)),
        "eta = now + countdown");
    assertTrue(
        !expires.isBefore(before.plusSeconds(120))
            && expires.isBefore(Instant.now().plusSeconds(121)));
    assertEquals(
        "120000",
        m.properties().get("expiration"),
        "RabbitMQ's per-message TTL in ms, as kombu sets it");
  }

  @Test
  void linkAndLinkErrorAreEmbedded() {
    assertSameAsFixture(
        "link",
        send(
            "examples.add",
            List.of(3, 4),
            Map.of(),
            SendOptions.with()
                .link(Signature.of("examples.mul", 10))
                .linkError(Signature.of("examples.noop").immutableCopy())));
  }

  @Test
  void ignoreResultHeader() {
    assertSameAsFixture(
        "ignore_result",
        send("examples.add", List.of(2, 2), Map.of(), SendOptions.with().ignoreResult(true)));
  }

  @Test
  void unicodeIsEscapedAsPythonDoes() {
    assertSameAsFixture(
        "unicode", send("examples.echo", List.of("h\u00e9llo w\u00f6rld \u2713"), Map.of(), null));
  }

  @Test
  void chainSendsItsFirstStepWithTheRestFrozenWithReplyTo() {
    Launch l =
        ClientMessages.launch(
            Canvas.chain(
                Signature.of("examples.add", 1, 2),
                Signature.of("examples.mul", 10),
                Signature.of("examples.add", 5)),
            null,
            OID,
            ORIGIN,
            QUEUE);
    assertEquals(1, l.messages().size());
    assertSameAsFixture("chain", l.messages().get(0));
    assertTrue(
        new String(l.messages().get(0).body(), StandardCharsets.UTF_8)
            .contains("\"reply_to\": \"" + OID + "\""));
  }

  @Test
  void groupMembersShareTheGroupId() {
    Launch l =
        ClientMessages.launch(
            Canvas.group(Signature.of("examples.add", 1, 1), Signature.of("examples.add", 2, 2)),
            null,
            OID,
            ORIGIN,
            QUEUE);
    assertEquals(2, l.messages().size());
    assertSameAsFixture("group", l.messages().get(0));
    assertEquals(l.id(), l.messages().get(1).headers().get("group"));
  }

  @Test
  void chordStoresItsSizeAndSendsTheHeader() {
    Launch l =
        ClientMessages.launch(
            Canvas.chord(
                List.of(Signature.of("examples.add", 1, 1), Signature.of("examples.add", 2, 2)),
                Signature.of("examples.xsum")),
            null,
            OID,
            ORIGIN,
            QUEUE);
    assertEquals(2, l.messages().size());
    assertSameAsFixture("chord", l.messages().get(0));
    String gid = (String) l.messages().get(0).headers().get("group");
    assertEquals(Map.of(gid, 2), l.chordSizes());
  }

  @Test
  void taskIdOptionNamesTheResult() {
    OutgoingMessage m =
        send("examples.add", List.of(1, 1), Map.of(), SendOptions.with().taskId("my-id"));
    assertEquals("my-id", m.headers().get("id"));
    Launch l =
        ClientMessages.launch(
            Canvas.chain(Signature.of("a"), Signature.of("b")),
            SendOptions.with().taskId("last"),
            OID,
            ORIGIN,
            QUEUE);
    assertEquals("last", l.id(), "a chain's result is its last step's");
  }

  @Test
  void queueOptionRoutesThroughTheDefaultExchange() {
    OutgoingMessage m =
        send("examples.add", List.of(1, 1), Map.of(), SendOptions.with().queue("urgent"));
    assertEquals("", m.exchange());
    assertEquals("urgent", m.routingKey());
    OutgoingMessage x =
        send(
            "examples.add",
            List.of(1, 1),
            Map.of(),
            SendOptions.with().exchange("ex").routingKey("rk"));
    assertEquals("ex", x.exchange());
    assertEquals("rk", x.routingKey());
  }

  @Test
  void recordsBecomeJsonObjectsAndTheirRepr() {
    record Point(int x, int y) {}
    OutgoingMessage m = send("examples.echo", List.of(new Point(1, 2)), Map.of(), null);
    assertEquals("({'x': 1, 'y': 2},)", m.headers().get("argsrepr"));
    assertEquals(
        "[[{\"x\": 1, \"y\": 2}], {}, {\"callbacks\": null, \"errbacks\": null, \"chain\": null, \"chord\": null}]",
        new String(m.body(), StandardCharsets.UTF_8));
  }

  @Test
  void aTaskNameIsRequired() {
    assertThrows(IllegalArgumentException.class, () -> send("", List.of(), Map.of(), null));
  }

  @Test
  @SuppressWarnings("unchecked")
  void redisEnvelopeIsKombus() throws Exception {
    OutgoingMessage m =
        send(
            "examples.add",
            List.of(3, 4),
            Map.of(),
            SendOptions.with()
                .countdown(10)
                .expires(120)
                .priority(5)
                .timeLimit(60)
                .softTimeLimit(50)
                .headers(Map.of("x-custom", "v")));
    Map<String, Object> ours = RedisEnvelope.encode(m);
    Map<String, Object> theirs =
        (Map<String, Object>)
            Json.parse((String) DeliveryFixtures.raw("redis", "options").get("envelope"));
    assertEquals(new ArrayList<>(theirs.keySet()), new ArrayList<>(ours.keySet()));
    assertEquals(
        mask(
            new String(
                Base64.getDecoder().decode((String) theirs.remove("body")),
                StandardCharsets.UTF_8)),
        mask(
            new String(
                Base64.getDecoder().decode((String) ours.remove("body")), StandardCharsets.UTF_8)));
    assertEquals(masked(theirs), masked(ours));
  }

  @Test
  void revokeIsAPidboxBroadcast() throws Exception {
    OutgoingMessage m = ControlMessages.revoke(List.of("t1"), true, null, 7, 1000.0);
    assertEquals("celery.pidbox", m.exchange());
    assertEquals(
        "{\"method\": \"revoke\", \"arguments\": {\"task_id\": \"t1\", \"terminate\": true, \"signal\": \"SIGTERM\"}, "
            + "\"destination\": null, \"pattern\": null, \"matcher\": null}",
        new String(m.body(), StandardCharsets.UTF_8));
    assertEquals(Map.of("clock", 7L, "expires", 1001.0), m.headers());
    Map<String, Object> several =
        (Map<String, Object>)
            ((Map<String, Object>)
                    Json.parse(
                        ControlMessages.revoke(List.of("a", "b"), false, "SIGKILL", 1, 0).body()))
                .get("arguments");
    assertEquals(List.of("a", "b"), several.get("task_id"));
  }

  @Test
  void failuresCarryCelerysExceptionFields() {
    TaskFailedException e =
        TaskFailedException.of(
            "t",
            "FAILURE",
            Map.of(
                "exc_type", "ValueError", "exc_message", List.of("boom"), "exc_module", "builtins"),
            "Traceback...");
    assertEquals("ValueError: boom", e.getMessage());
    assertEquals("ValueError", e.excType());
    assertEquals("builtins", e.excModule());
    assertEquals(List.of("boom"), e.excMessage());
    assertEquals("Traceback...", e.traceback());
  }

  @Test
  void blockingGetRefusesTheEventLoop() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      java.util.concurrent.CompletableFuture<Throwable> seen =
          new java.util.concurrent.CompletableFuture<>();
      vertx.runOnContext(
          v -> {
            try {
              Blocking.refuseOnEventLoop("AsyncResult.get()");
              seen.complete(null);
            } catch (IllegalStateException e) {
              seen.complete(e);
            }
          });
      Throwable t = seen.get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertTrue(
          t instanceof IllegalStateException && t.getMessage().contains("event-loop"),
          String.valueOf(t));
    } finally {
      vertx
          .close()
          .await(Duration.ofSeconds(10).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }
  }
}

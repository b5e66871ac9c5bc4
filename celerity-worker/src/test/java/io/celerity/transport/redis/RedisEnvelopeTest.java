package io.celerity.transport.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.protocol.DeliveryFixtures;
import io.celerity.protocol.MessageDecoder;
import io.celerity.protocol.TaskMessage;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Envelopes against the messages Celery 5.2.6 / kombu 5.2.4 wrote to Redis. */
class RedisEnvelopeTest {

  static List<String> fixtures() {
    return DeliveryFixtures.names("redis");
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void decodesEveryCapturedEnvelope(String name) throws Exception {
    String raw = DeliveryFixtures.raw("redis", name).get("envelope").toString();
    Map<String, Object> env = RedisEnvelope.parse(raw);
    Delivery expected = DeliveryFixtures.redis(name);
    Delivery d = RedisEnvelope.toDelivery(env, "q", RedisEnvelope.deliveryTag(env), 3);

    assertArrayEquals(expected.body(), d.body());
    assertEquals("application/json", d.contentType());
    assertEquals("utf-8", d.contentEncoding());
    assertEquals(expected.headers(), d.headers());
    assertEquals(expected.correlationId(), d.correlationId());
    assertEquals(expected.replyTo(), d.replyTo());
    assertEquals(expected.priority(), d.priority());
    assertEquals("", d.exchange());
    assertEquals("celerity-fixtures-capture", d.routingKey());
    assertEquals("q", d.queue());
    assertEquals(3, d.generation());
    assertFalse(d.redelivered());
    assertEquals(
        DeliveryFixtures.envelope(name).get("properties") instanceof Map<?, ?> p
            ? p.get("delivery_tag")
            : null,
        d.deliveryTag());
    TaskMessage m = new MessageDecoder().decode(d);
    assertEquals(d.headers().get("id"), m.id());
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void capturedListMatchesThePriorityStep(String name) {
    Map<String, Object> env = DeliveryFixtures.envelope(name);
    Integer priority = (Integer) RedisEnvelope.properties(env).get("priority");
    String list = DeliveryFixtures.raw("redis", name).get("list").toString();
    assertEquals(
        list, new RedisKeys("", 10).list("celerity-fixtures-capture", RedisKeys.step(priority)));
  }

  @Test
  void encodesLikeKombu() {
    OutgoingMessage m =
        OutgoingMessage.json(
            "",
            "celery",
            "[[2, 2], {}, {}]".getBytes(StandardCharsets.UTF_8),
            Map.of("task", "examples.add", "id", "abc"),
            Map.of("correlation_id", "abc", "reply_to", "r-1", "priority", 6));
    Map<String, Object> env = RedisEnvelope.encode(m);
    assertEquals(
        List.of("body", "content-encoding", "content-type", "headers", "properties"),
        List.copyOf(env.keySet()));
    Map<String, Object> props = RedisEnvelope.properties(env);
    assertEquals(
        List.of(
            "correlation_id",
            "reply_to",
            "delivery_mode",
            "delivery_info",
            "priority",
            "body_encoding",
            "delivery_tag"),
        List.copyOf(props.keySet()));
    assertEquals(Map.of("exchange", "", "routing_key", "celery"), props.get("delivery_info"));
    assertEquals(2, props.get("delivery_mode"));
    assertEquals("base64", props.get("body_encoding"));
    assertTrue(props.get("delivery_tag").toString().matches("[0-9a-f-]{36}"));
    assertEquals("W1syLCAyXSwge30sIHt9XQ==", env.get("body"));

    Delivery d =
        RedisEnvelope.toDelivery(
            RedisEnvelope.parse(io.celerity.protocol.Json.encodeToString(env)), "celery", "t", 1);
    assertArrayEquals(m.body(), d.body());
    assertEquals(6, d.priority());
    assertEquals("r-1", d.replyTo());
    assertNotEquals(
        props.get("delivery_tag"),
        RedisEnvelope.encode(m).get("properties") instanceof Map<?, ?> p2
            ? p2.get("delivery_tag")
            : null,
        "a fresh tag per publish");
  }

  @Test
  void restoredCopyIsFlaggedRedeliveredAndKeepsTheRest() {
    Map<String, Object> env = DeliveryFixtures.envelope("add");
    Map<String, Object> again = RedisEnvelope.redelivered(env);
    Delivery d = RedisEnvelope.toDelivery(again, "q", "t", 1);
    assertTrue(d.redelivered());
    assertEquals(true, d.headers().get("redelivered"));
    assertEquals(List.copyOf(env.keySet()), List.copyOf(again.keySet()));
    assertEquals(
        RedisEnvelope.deliveryTag(env), RedisEnvelope.deliveryTag(again), "kombu keeps the tag");
    assertFalse(
        env.get("headers") instanceof Map<?, ?> h && h.containsKey("redelivered"),
        "original untouched");
  }

  @Test
  void bodyWithoutBodyEncodingIsTakenAsIs() {
    Map<String, Object> env =
        RedisEnvelope.parse(
            "{\"body\": \"[[1], {}, {}]\", \"content-type\": \"application/json\","
                + " \"headers\": {}, \"properties\": {}}");
    assertArrayEquals(
        "[[1], {}, {}]".getBytes(StandardCharsets.UTF_8),
        RedisEnvelope.toDelivery(env, "q", "t", 1).body());
    assertEquals(null, RedisEnvelope.deliveryTag(env));
  }

  @Test
  void anEnvelopeParsesTheSameFromRedisBytesAsFromAString() {
    // large envelopes are parsed from the reply's UTF-8 bytes: non-ASCII text must survive
    String raw =
        "{\"body\": \"[[\\\"h\u00e9llo \u2603\\\"], {}, {}]\", \"headers\": {\"id\": \"\u00e9\"},"
            + " \"properties\": {\"delivery_tag\": \"t\"}}";
    Map<String, Object> fromBytes = RedisEnvelope.parse(raw.getBytes(StandardCharsets.UTF_8));
    assertEquals(RedisEnvelope.parse(raw), fromBytes);
    assertEquals("[[\"h\u00e9llo \u2603\"], {}, {}]", fromBytes.get("body"));
    assertThrows(
        IllegalArgumentException.class,
        () -> RedisEnvelope.parse("[1]".getBytes(StandardCharsets.UTF_8)),
        "not an object");
  }

  @Test
  void lineWrappedBase64DecodesAsPythonsB64decodeDoes() {
    // kombu writes plain base64; a producer that wraps lines (base64.encodebytes) still decodes
    String plain =
        java.util.Base64.getEncoder()
            .encodeToString("[[1, 2], {}, {}]".getBytes(StandardCharsets.UTF_8));
    String wrapped = plain.substring(0, 8) + "\\n" + plain.substring(8); // a JSON-escaped newline
    Map<String, Object> env =
        RedisEnvelope.parse(
            "{\"body\": \"" + wrapped + "\", \"properties\": {\"body_encoding\": \"base64\"}}");
    assertArrayEquals(
        "[[1, 2], {}, {}]".getBytes(StandardCharsets.UTF_8),
        RedisEnvelope.toDelivery(env, "q", "t", 1).body());
  }

  @Test
  void badEnvelopesFailWithAClearReason() {
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> RedisEnvelope.parse("not json{"))
            .getMessage()
            .startsWith("envelope is not JSON"));
    assertEquals(
        "envelope is not a JSON object",
        assertThrows(IllegalArgumentException.class, () -> RedisEnvelope.parse("[1, 2]"))
            .getMessage());
    assertEquals(
        "envelope has no string \"body\"",
        assertThrows(IllegalArgumentException.class, () -> RedisEnvelope.parse("{\"headers\": {}}"))
            .getMessage());
    Map<String, Object> badBase64 =
        RedisEnvelope.parse("{\"body\": \"a\", \"properties\": {\"body_encoding\": \"base64\"}}");
    assertThrows(
        IllegalArgumentException.class, () -> RedisEnvelope.toDelivery(badBase64, "q", "t", 1));
  }
}

package io.celerity.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TaskMessagesTest {

  private static Delivery asDelivery(OutgoingMessage m) {
    return new Delivery(
        m.body(),
        m.contentType(),
        m.contentEncoding(),
        m.headers(),
        (String) m.properties().get("correlation_id"),
        (String) m.properties().get("reply_to"),
        (Integer) m.properties().get("priority"),
        m.exchange(),
        m.routingKey(),
        m.routingKey(),
        false,
        1L,
        0);
  }

  @Test
  void createdMessageDecodesBack() throws Exception {
    Map<String, Object> kwargs = new LinkedHashMap<>();
    kwargs.put("y", 3);
    kwargs.put("label", "h\u00e9");
    List<Object> args = List.of(2, BigInteger.TWO.pow(70));
    OutgoingMessage out =
        TaskMessages.create(
            "examples.add", args, kwargs, "celery", "gen1@host", null, null, "reply-q");
    TaskMessage m = new MessageDecoder().decode(asDelivery(out));
    assertEquals(TaskMessages.id(out), m.id());
    assertEquals("examples.add", m.task());
    assertEquals(args, m.args());
    assertEquals(kwargs, m.kwargs());
    assertEquals(m.id(), m.rootId());
    assertEquals(m.id(), m.correlationId());
    assertEquals("reply-q", m.replyTo());
    assertEquals(0, m.retries());
    assertNull(m.eta());
    assertNull(m.hardTimeLimit());
    assertFalse(m.ignoreResult());
    assertEquals("(2, 1180591620717411303424)", m.argsrepr());
    assertEquals("{'y': 3, 'label': 'h\u00e9'}", m.kwargsrepr());
  }

  @Test
  void publishedThroughDefaultExchangeToTheQueue() {
    OutgoingMessage out =
        TaskMessages.create(
            "examples.add", List.of(1), Map.of(), "celery", "gen1@host", null, null, "r");
    assertEquals("", out.exchange());
    assertEquals("celery", out.routingKey());
    assertEquals("application/json", out.contentType());
    assertEquals("utf-8", out.contentEncoding());
    assertEquals(2, out.properties().get("delivery_mode"));
    assertEquals(0, out.properties().get("priority"));
    assertEquals(TaskMessages.id(out), out.properties().get("correlation_id"));
  }

  @Test
  void allSixteenV2HeadersPresentInClientOrder() {
    Map<String, Object> captured = DeliveryFixtures.amqp("add").headers();
    assertEquals(16, captured.size());
    OutgoingMessage out =
        TaskMessages.create(
            "examples.add", List.of(2, 2), Map.of(), "celery", "gen9129@vm", null, null, "r");
    assertEquals(new ArrayList<>(captured.keySet()), new ArrayList<>(out.headers().keySet()));
    // the values a 5.2 client writes for a plain call
    Map<String, Object> h = out.headers();
    assertEquals("py", h.get("lang"));
    assertEquals("(2, 2)", h.get("argsrepr"));
    assertEquals("{}", h.get("kwargsrepr"));
    assertEquals("gen9129@vm", h.get("origin"));
    assertEquals(0, h.get("retries"));
    assertEquals(Arrays.asList(null, null), h.get("timelimit"));
    assertEquals(Boolean.FALSE, h.get("ignore_result"));
    for (String k : List.of("shadow", "eta", "expires", "group", "group_index", "parent_id")) {
      assertNull(h.get(k), k);
    }
  }

  @Test
  void bodyIsTheV2TripleWithNullEmbed() throws Exception {
    OutgoingMessage out =
        TaskMessages.create(
            "examples.add", List.of(2, 2), Map.of(), "celery", "o", null, null, "r");
    assertEquals(Json.parse(DeliveryFixtures.amqp("add").body()), Json.parse(out.body()));
  }

  @Test
  void etaAndExpiresRoundTripWithMicrosecondPrecision() throws Exception {
    Instant eta = Instant.parse("2030-01-02T03:04:05.123456789Z");
    Instant expires = Instant.parse("2030-01-02T04:04:05Z");
    OutgoingMessage out =
        TaskMessages.create("examples.add", List.of(), Map.of(), "celery", "o", eta, expires, "r");
    assertEquals("2030-01-02T03:04:05.123456+00:00", out.headers().get("eta"));
    assertEquals("2030-01-02T04:04:05.000000+00:00", out.headers().get("expires"));
    TaskMessage m = new MessageDecoder().decode(asDelivery(out));
    assertEquals(Instant.parse("2030-01-02T03:04:05.123456Z"), m.eta());
    assertEquals(expires, m.expires());
  }

  @Test
  void everyMessageGetsAFreshId() {
    OutgoingMessage a = TaskMessages.create("t", List.of(), Map.of(), "q", "o", null, null, "r");
    OutgoingMessage b = TaskMessages.create("t", List.of(), Map.of(), "q", "o", null, null, "r");
    assertNotEquals(TaskMessages.id(a), TaskMessages.id(b));
  }
}

package io.celerity.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PidboxTest {

  private final Pidbox box = new Pidbox("w1@vm");

  private static Map<String, Object> request(Object destination, String pattern, String matcher) {
    Map<String, Object> r = new HashMap<>();
    r.put("method", "ping");
    r.put("destination", destination);
    r.put("pattern", pattern);
    r.put("matcher", matcher);
    return r;
  }

  @Test
  void acceptsBroadcastsAndOwnDestinationOnly() {
    assertTrue(box.accepts(request(null, null, null), Map.of(), 100));
    assertTrue(box.accepts(request(List.of("w2@vm", "w1@vm"), null, null), Map.of(), 100));
    assertFalse(box.accepts(request(List.of("w2@vm"), null, null), Map.of(), 100));
    assertTrue(box.accepts(request(null, "w*@vm", "glob"), Map.of(), 100));
    assertFalse(box.accepts(request(null, "x*", "glob"), Map.of(), 100));
    assertTrue(box.accepts(request(null, "w1", "pcre"), Map.of(), 100));
  }

  @Test
  void ignoresExpiredRequests() {
    assertFalse(box.accepts(request(null, null, null), Map.of("expires", 99.5), 100));
    assertTrue(box.accepts(request(null, null, null), Map.of("expires", 0), 100), "0 = no timeout");
  }

  @Test
  void repliesOnlyWithReplyToAndCarriesTicketAndClock() {
    assertNull(box.reply(request(null, null, null), Map.of("ok", "pong")), "a cast gets no reply");
    Map<String, Object> r = request(null, null, null);
    r.put("ticket", "t-1");
    r.put("reply_to", Map.of("exchange", "reply.celery.pidbox", "routing_key", "oid"));
    box.observe(Map.of("clock", 41));
    var reply = box.reply(r, Map.of("ok", "pong"));
    assertEquals("reply.celery.pidbox", reply.exchange());
    assertEquals("oid", reply.routingKey());
    assertEquals("t-1", reply.headers().get("ticket"));
    assertEquals(43L, reply.headers().get("clock"));
    assertEquals(
        "{\"w1@vm\":{\"ok\":\"pong\"}}",
        new String(reply.body(), java.nio.charset.StandardCharsets.UTF_8));
  }
}

package io.celerity.control;

import io.celerity.protocol.Json;
import io.celerity.types.OutgoingMessage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Celery's pidbox rules for one node: which requests are ours, and the reply to send. Plain logic,
 * no I/O.
 */
public final class Pidbox {

  private final String node;
  private final java.util.concurrent.atomic.AtomicLong clock;

  public Pidbox(String node) {
    this(node, new java.util.concurrent.atomic.AtomicLong());
  }

  /** A mailbox sharing the Lamport {@code clock} with the worker's events. */
  public Pidbox(String node, java.util.concurrent.atomic.AtomicLong clock) {
    this.node = node;
    this.clock = clock;
  }

  /**
   * Celery's dispatch rule: ours if {@code destination} lists us; else if {@code pattern} and
   * {@code matcher} are set and match; else if there is no destination at all. Requests whose
   * {@code expires} header has passed are dropped (the client stopped listening).
   */
  public boolean accepts(
      Map<String, Object> request, Map<String, Object> headers, double nowEpochSeconds) {
    Object expires = headers == null ? null : headers.get("expires");
    if (expires instanceof Number e && e.doubleValue() > 0 && e.doubleValue() < nowEpochSeconds) {
      return false;
    }
    Object destination = request.get("destination");
    if (destination instanceof List<?> d && !d.isEmpty()) {
      return d.contains(node);
    }
    Object pattern = request.get("pattern");
    Object matcher = request.get("matcher");
    if (pattern != null && matcher != null) {
      return matches(pattern.toString(), matcher.toString());
    }
    return true;
  }

  private boolean matches(String pattern, String matcher) {
    if ("pcre".equals(matcher)) {
      return Pattern.compile(pattern).matcher(node).lookingAt();
    }
    return Pattern.compile(globToRegex(pattern)).matcher(node).matches();
  }

  /** Python's fnmatch: {@code *} anything, {@code ?} one character, {@code [...]} a set. */
  static String globToRegex(String glob) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      switch (c) {
        case '*' -> sb.append(".*");
        case '?' -> sb.append('.');
        case '[' -> {
          int end = glob.indexOf(']', i + 1);
          if (end < 0) {
            sb.append("\\[");
          } else {
            String set = glob.substring(i + 1, end);
            sb.append('[').append(set.startsWith("!") ? "^" + set.substring(1) : set).append(']');
            i = end;
          }
        }
        default -> sb.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return sb.toString();
  }

  /** Lamport clock: a received clock value moves ours past it. */
  public long observe(Map<String, Object> headers) {
    Object c = headers == null ? null : headers.get("clock");
    long received = c instanceof Number n ? n.longValue() : 0;
    return clock.updateAndGet(mine -> Math.max(mine, received) + 1);
  }

  public long clock() {
    return clock.get();
  }

  /**
   * The reply to a request, or null when none is wanted (no {@code reply_to}: a cast). Published to
   * {@code reply_to.exchange} with the ticket, body {@code {"<node>": result}}, delivery mode 1.
   */
  @SuppressWarnings("unchecked")
  public OutgoingMessage reply(Map<String, Object> request, Object result) {
    Object replyTo = request.get("reply_to");
    if (!(replyTo instanceof Map<?, ?> rt) || request.get("ticket") == null) {
      return null;
    }
    Map<String, Object> to = (Map<String, Object>) rt;
    Map<String, Object> body = new LinkedHashMap<>();
    body.put(node, result);
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("ticket", request.get("ticket"));
    headers.put("clock", clock.incrementAndGet());
    // kombu's Mailbox._publish_reply declares the reply exchange (direct, not durable) first.
    Map<String, Object> props =
        Map.of("delivery_mode", 1, "priority", 0, OutgoingMessage.DECLARE_EXCHANGE, "direct");
    return OutgoingMessage.json(
        String.valueOf(to.getOrDefault("exchange", "reply.celery.pidbox")),
        String.valueOf(to.get("routing_key")),
        Json.encode(body),
        headers,
        props);
  }

  /**
   * A request to every worker on the broker, or those in {@code destination}, without a reply
   * (kombu's {@code Mailbox._broadcast} with {@code reply=False}): published to the pidbox fanout
   * exchange, which every worker's mailbox (ours too) is bound to.
   */
  public OutgoingMessage cast(
      String method,
      Map<String, Object> arguments,
      List<String> destination,
      double nowEpochSeconds) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("method", method);
    body.put("arguments", arguments);
    body.put("destination", destination);
    body.put("pattern", null);
    body.put("matcher", null);
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("clock", clock.incrementAndGet());
    headers.put("expires", nowEpochSeconds + CAST_EXPIRES_SECONDS);
    Map<String, Object> props =
        Map.of("delivery_mode", 1, "priority", 0, OutgoingMessage.DECLARE_EXCHANGE, "fanout");
    return OutgoingMessage.json(
        ControlVerticle.PIDBOX_EXCHANGE, "", Json.encode(body), headers, props);
  }

  /**
   * A broadcast nobody took within this many seconds is dropped by the workers (kombu's default
   * 'expires' of casts).
   */
  private static final double CAST_EXPIRES_SECONDS = 60;
}

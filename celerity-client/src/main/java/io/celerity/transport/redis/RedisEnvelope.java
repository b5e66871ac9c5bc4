package io.celerity.transport.redis;

import io.celerity.protocol.Json;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * kombu's Redis message envelope (docs/wire-protocol.md §3.2): one JSON object per list entry or
 * pub/sub payload, body base64-encoded, properties carrying {@code delivery_info} and the
 * publisher's {@code delivery_tag}. Envelopes are kept as ordered maps so that a restored message
 * keeps kombu's key order.
 */
public final class RedisEnvelope {

  private RedisEnvelope() {}

  /**
   * The envelope kombu's {@code Channel._put} would write for {@code m}, with a fresh delivery tag.
   */
  public static Map<String, Object> encode(OutgoingMessage m) {
    Map<String, Object> p = m.properties() == null ? Map.of() : m.properties();
    Map<String, Object> props = new LinkedHashMap<>();
    putIfPresent(props, "correlation_id", p.get("correlation_id"));
    putIfPresent(props, "reply_to", p.get("reply_to"));
    props.put("delivery_mode", p.get("delivery_mode") instanceof Number n ? n.intValue() : 2);
    putIfPresent(
        props, "expiration", p.get("expiration") == null ? null : p.get("expiration").toString());
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("exchange", m.exchange() == null ? "" : m.exchange());
    info.put("routing_key", m.routingKey() == null ? "" : m.routingKey());
    props.put("delivery_info", info);
    props.put("priority", p.get("priority") instanceof Number n ? n.intValue() : 0);
    props.put("body_encoding", "base64");
    props.put("delivery_tag", UUID.randomUUID().toString());

    Map<String, Object> env = new LinkedHashMap<>();
    env.put("body", Base64.getEncoder().encodeToString(m.body() == null ? new byte[0] : m.body()));
    env.put("content-encoding", m.contentEncoding());
    env.put("content-type", m.contentType());
    env.put("headers", m.headers() == null ? Map.of() : m.headers());
    env.put("properties", props);
    return env;
  }

  private static void putIfPresent(Map<String, Object> m, String key, Object value) {
    if (value != null) {
      m.put(key, value);
    }
  }

  /**
   * Parses an envelope as it comes out of a list or a pub/sub channel.
   *
   * @throws IllegalArgumentException when it is not a JSON object with a string body
   */
  public static Map<String, Object> parse(String raw) {
    try {
      return checked(Json.parse(raw));
    } catch (IOException e) {
      throw new IllegalArgumentException("envelope is not JSON: " + e.getMessage(), e);
    }
  }

  /** {@link #parse(String)} from the UTF-8 bytes Redis returned: no string decoded first. */
  public static Map<String, Object> parse(byte[] raw) {
    try {
      return checked(Json.parse(raw));
    } catch (IOException e) {
      throw new IllegalArgumentException("envelope is not JSON: " + e.getMessage(), e);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> checked(Object v) {
    if (!(v instanceof Map<?, ?> env)) {
      throw new IllegalArgumentException("envelope is not a JSON object");
    }
    if (!(env.get("body") instanceof String)) {
      throw new IllegalArgumentException("envelope has no string \"body\"");
    }
    if (env.get("properties") != null && !(env.get("properties") instanceof Map)) {
      throw new IllegalArgumentException("envelope \"properties\" is not an object");
    }
    if (env.get("headers") != null && !(env.get("headers") instanceof Map)) {
      throw new IllegalArgumentException("envelope \"headers\" is not an object");
    }
    return (Map<String, Object>) env;
  }

  /** The envelope's properties (an empty map when it has none). */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> properties(Map<String, Object> env) {
    Object p = env.get("properties");
    return p instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  /** The delivery tag of a raw envelope, or null when it has none or cannot be read at all. */
  public static String tagOf(String raw) {
    try {
      return Json.parse(raw) instanceof Map<?, ?> env
              && env.get("properties") instanceof Map<?, ?> p
              && p.get("delivery_tag") instanceof String t
          ? t
          : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The publisher's delivery tag, or null when a non-kombu producer left it out. */
  public static String deliveryTag(Map<String, Object> env) {
    Object t = properties(env).get("delivery_tag");
    return t == null ? null : t.toString();
  }

  /**
   * kombu writes plain base64; Python's {@code b64decode} also skips characters outside the
   * alphabet (line breaks), which the MIME decoder does too, but it scans the whole input first to
   * size its output: a third of the event loop's time for a 1 MB body. Plain first, MIME if needed.
   */
  private static byte[] base64(String body) {
    try {
      return Base64.getDecoder().decode(body);
    } catch (IllegalArgumentException plain) {
      try {
        return Base64.getMimeDecoder().decode(body);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("body is not valid base64: " + e.getMessage(), e);
      }
    }
  }

  /**
   * The delivery for a parsed envelope.
   *
   * @throws IllegalArgumentException when the body is not valid base64
   */
  @SuppressWarnings("unchecked")
  public static Delivery toDelivery(
      Map<String, Object> env, String queue, String tag, long generation) {
    Map<String, Object> props = properties(env);
    Map<String, Object> info =
        props.get("delivery_info") instanceof Map<?, ?> i ? (Map<String, Object>) i : Map.of();
    String body = (String) env.get("body");
    byte[] bytes;
    if ("base64".equals(props.get("body_encoding"))) {
      bytes = base64(body);
    } else {
      bytes = body.getBytes(StandardCharsets.UTF_8); // kombu: no body_encoding = the body as is
    }
    Map<String, Object> headers =
        env.get("headers") instanceof Map<?, ?> h ? (Map<String, Object>) h : Map.of();
    Integer priority = props.get("priority") instanceof Number n ? n.intValue() : null;
    boolean redelivered = Boolean.TRUE.equals(info.get("redelivered"));
    return new Delivery(
        bytes,
        str(env.get("content-type")),
        str(env.get("content-encoding")),
        headers,
        str(props.get("correlation_id")),
        str(props.get("reply_to")),
        priority,
        str(info.get("exchange")),
        str(info.get("routing_key")),
        queue,
        redelivered,
        tag,
        generation);
  }

  /**
   * A copy flagged as kombu flags restored messages: {@code redelivered} in headers and
   * delivery_info.
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> redelivered(Map<String, Object> env) {
    Map<String, Object> copy = new LinkedHashMap<>(env);
    Map<String, Object> headers =
        env.get("headers") instanceof Map<?, ?> h
            ? new LinkedHashMap<>((Map<String, Object>) h)
            : new LinkedHashMap<>();
    headers.put("redelivered", true);
    copy.put("headers", headers);
    Map<String, Object> props = new LinkedHashMap<>(properties(env));
    Map<String, Object> info =
        props.get("delivery_info") instanceof Map<?, ?> i
            ? new LinkedHashMap<>((Map<String, Object>) i)
            : new LinkedHashMap<>();
    info.put("redelivered", true);
    props.put("delivery_info", info);
    copy.put("properties", props);
    return copy;
  }

  private static String str(Object o) {
    return o == null ? null : o.toString();
  }
}

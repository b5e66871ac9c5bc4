package io.celerity.protocol;

import io.celerity.types.Delivery;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/**
 * Turns a broker delivery into a {@link TaskMessage}: content-type check against the accept list,
 * decompression, JSON decoding, protocol v2 recognition and v1 conversion, exactly as Celery's
 * worker applies them.
 */
public final class MessageDecoder {

  /** Celery's default {@code accept_content}: JSON only. */
  public static final Set<String> DEFAULT_ACCEPT = Set.of("application/json");

  private static final List<String> V1_HEADER_KEYS =
      List.of(
          "lang",
          "task",
          "id",
          "root_id",
          "parent_id",
          "meth",
          "shadow",
          "eta",
          "expires",
          "retries",
          "timelimit",
          "argsrepr",
          "kwargsrepr",
          "origin");

  /** Default bound on a decompressed body: a compression bomb must not take the heap. */
  public static final long DEFAULT_MAX_DECOMPRESSED_BYTES = 64L * 1024 * 1024;

  /**
   * Bodies above this size are decoded on a worker thread, not on the consumer's event loop:
   * parsing 256 KiB of JSON takes about 0.3 ms once compiled and many times that while the JIT
   * warms up.
   */
  public static final int HEAVY_BODY_BYTES = 256 * 1024;

  private final Set<String> accept;
  private final long maxDecompressedBytes;

  public MessageDecoder() {
    this(DEFAULT_ACCEPT, DEFAULT_MAX_DECOMPRESSED_BYTES);
  }

  public MessageDecoder(Set<String> accept) {
    this(accept, DEFAULT_MAX_DECOMPRESSED_BYTES);
  }

  public MessageDecoder(Set<String> accept, long maxDecompressedBytes) {
    this.accept = accept;
    this.maxDecompressedBytes = maxDecompressedBytes;
  }

  /**
   * Whether decoding this delivery may take long enough to stall an event loop (compressed or
   * large): the consumer then calls {@link #inflate} on a worker thread first.
   */
  public static boolean isHeavy(Delivery delivery) {
    return (delivery.headers() != null && delivery.headers().get("compression") != null)
        || (delivery.body() != null && delivery.body().length > HEAVY_BODY_BYTES);
  }

  /**
   * The same delivery with its body decompressed (bounded) and the {@code compression} header gone,
   * so that decoding it (again, e.g. when an ETA comes) is cheap. Blocking: call off the event
   * loop.
   *
   * @throws UndecodableBodyException the body does not decompress or exceeds the bound
   */
  public Delivery inflate(Delivery d) throws UndecodableBodyException {
    Object compression = d.headers() == null ? null : d.headers().get("compression");
    if (compression == null) {
      return d;
    }
    byte[] body;
    try {
      body = decompress(d.body(), compression, maxDecompressedBytes);
    } catch (IOException e) {
      throw new UndecodableBodyException("cannot decompress message body: " + e.getMessage(), e);
    }
    Map<String, Object> headers = new LinkedHashMap<>(d.headers());
    headers.remove("compression");
    return new Delivery(
        body,
        d.contentType(),
        d.contentEncoding(),
        headers,
        d.correlationId(),
        d.replyTo(),
        d.priority(),
        d.exchange(),
        d.routingKey(),
        d.queue(),
        d.redelivered(),
        d.deliveryTag(),
        d.generation());
  }

  /**
   * @throws InvalidTaskException not acceptable or not a task: reject without requeue
   * @throws UndecodableBodyException body cannot be decoded: ack and drop
   */
  public TaskMessage decode(Delivery delivery)
      throws InvalidTaskException, UndecodableBodyException {
    String contentType =
        delivery.contentType() == null ? "application/json" : delivery.contentType();
    if (!accept.contains(contentType)) {
      throw new InvalidTaskException(
          "content type " + contentType + " is not in the accept list " + accept);
    }
    Map<String, Object> headers = delivery.headers() == null ? Map.of() : delivery.headers();
    Object body;
    try {
      body =
          Json.parse(decompress(delivery.body(), headers.get("compression"), maxDecompressedBytes));
    } catch (IOException | RuntimeException e) {
      throw new UndecodableBodyException("cannot decode message body: " + e.getMessage(), e);
    }
    if (headers.get("task") != null) {
      return fromV2(headers, body, delivery);
    }
    if (body instanceof Map<?, ?> map && map.get("task") != null) {
      return fromV1(headers, cast(map), delivery);
    }
    throw new InvalidTaskException("unknown message: no task header and not a protocol v1 body");
  }

  private static byte[] decompress(byte[] body, Object compression, long limit) throws IOException {
    if (compression == null) {
      return body == null ? new byte[0] : body;
    }
    String type = compression.toString();
    InputStream in;
    switch (type) {
      case "application/x-gzip", "zlib", "gzip" ->
          in =
              isGzip(body)
                  ? new GZIPInputStream(new java.io.ByteArrayInputStream(body))
                  : new InflaterInputStream(new java.io.ByteArrayInputStream(body));
      default -> throw new IOException("unsupported compression " + type);
    }
    try (in) {
      ByteArrayOutputStream out =
          new ByteArrayOutputStream((int) Math.min(limit, body.length * 4L));
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      int n;
      while ((n = in.read(buf)) > 0) {
        total += n;
        if (total > limit) {
          throw new IOException("decompressed body exceeds " + limit + " bytes");
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    }
  }

  private static boolean isGzip(byte[] b) {
    return b.length > 2 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b;
  }

  private TaskMessage fromV2(Map<String, Object> headers, Object body, Delivery d)
      throws InvalidTaskException {
    if (!(body instanceof List<?> parts) || parts.size() < 2) {
      throw new InvalidTaskException("protocol v2 body must be [args, kwargs, embed]");
    }
    List<Object> args = asArgs(parts.get(0));
    Map<String, Object> kwargs = asKwargs(parts.get(1));
    Map<String, Object> embed =
        parts.size() > 2 && parts.get(2) instanceof Map<?, ?> m ? cast(m) : Map.of();
    return build(headers, args, kwargs, embed, d);
  }

  private TaskMessage fromV1(Map<String, Object> realHeaders, Map<String, Object> body, Delivery d)
      throws InvalidTaskException {
    Map<String, Object> headers = new HashMap<>();
    for (String key : V1_HEADER_KEYS) {
      if (body.containsKey(key)) {
        headers.put(key, body.get(key));
      }
    }
    headers.put("group", body.get("group") != null ? body.get("group") : body.get("taskset"));
    headers.putIfAbsent("retries", 0);
    headers.putAll(realHeaders);
    Object kw = body.getOrDefault("kwargs", Map.of());
    if (kw != null && !(kw instanceof Map)) {
      throw new InvalidTaskException("protocol v1 kwargs must be a mapping");
    }
    Map<String, Object> embed = new HashMap<>();
    embed.put("callbacks", body.get("callbacks"));
    embed.put("errbacks", body.get("errbacks"));
    embed.put("chord", body.get("chord"));
    embed.put("chain", null);
    return build(headers, asArgs(body.getOrDefault("args", List.of())), asKwargs(kw), embed, d);
  }

  private static TaskMessage build(
      Map<String, Object> headers,
      List<Object> args,
      Map<String, Object> kwargs,
      Map<String, Object> embed,
      Delivery d)
      throws InvalidTaskException {
    Object id = headers.get("id");
    if (id == null) {
      throw new InvalidTaskException("task message without an id");
    }
    Double hard = null;
    Double soft = null;
    if (headers.get("timelimit") instanceof List<?> tl && tl.size() == 2) {
      hard = number(tl.get(0));
      soft = number(tl.get(1));
    }
    int retries = headers.get("retries") instanceof Number n ? n.intValue() : 0;
    return new TaskMessage(
        id.toString(),
        headers.get("task").toString(),
        args,
        kwargs,
        embed,
        Collections.unmodifiableMap(headers),
        time(headers, "eta"),
        time(headers, "expires"),
        retries,
        hard,
        soft,
        Boolean.TRUE.equals(headers.get("ignore_result")),
        d.correlationId(),
        d.replyTo(),
        d.priority());
  }

  private static Instant time(Map<String, Object> headers, String key) throws InvalidTaskException {
    Object v = headers.get(key);
    if (v == null) {
      return null;
    }
    try {
      return IsoTime.parse(v.toString());
    } catch (IllegalArgumentException e) {
      throw new InvalidTaskException("invalid " + key + " value: " + v, e);
    }
  }

  private static Double number(Object o) throws InvalidTaskException {
    if (o == null) {
      return null;
    }
    if (o instanceof Number n) {
      return n.doubleValue();
    }
    throw new InvalidTaskException("timelimit values must be numbers: " + o);
  }

  private static List<Object> asArgs(Object o) throws InvalidTaskException {
    if (o == null) {
      return List.of();
    }
    if (o instanceof List<?> l) {
      return Collections.unmodifiableList(new ArrayList<>(l));
    }
    throw new InvalidTaskException("task args must be a list");
  }

  private static Map<String, Object> asKwargs(Object o) throws InvalidTaskException {
    if (o == null) {
      return Map.of();
    }
    if (o instanceof Map<?, ?> m) {
      return Collections.unmodifiableMap(new LinkedHashMap<>(cast(m)));
    }
    throw new InvalidTaskException("task kwargs must be a mapping");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Map<?, ?> m) {
    return (Map<String, Object>) m;
  }
}

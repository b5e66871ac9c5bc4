package io.celerity.protocol;

import io.celerity.types.OutgoingMessage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Builds protocol v2 task messages exactly as a 5.2 Python client publishes them: every header
 * present, published through the default exchange with the queue name as routing key.
 */
public final class TaskMessages {

  private TaskMessages() {}

  /** A message for {@code send_task(name, args, kwargs)} to {@code queue}. */
  public static OutgoingMessage create(
      String name,
      List<Object> args,
      Map<String, Object> kwargs,
      String queue,
      String origin,
      Instant eta,
      Instant expires,
      String replyTo) {
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("queue", queue);
    options.put("eta", eta);
    options.put("expires", expires);
    options.put("reply_to", replyTo);
    return fromOptions(
        name, UUID.randomUUID().toString(), args, kwargs, options, null, null, origin, queue);
  }

  /**
   * A message for {@code signature.apply_async()}: Celery's execution options mapped onto the wire
   * as {@code Task.apply_async}/{@code amqp.as_task_v2} do (docs/wire-protocol.md §5.1). Recognised
   * options: {@code queue}, {@code exchange}, {@code routing_key}, {@code priority}, {@code
   * countdown}, {@code eta}, {@code expires} (seconds, ISO text or {@link Instant}), {@code link},
   * {@code link_error}, {@code chain}, {@code chord}, {@code group_id}, {@code group_index}, {@code
   * time_limit}, {@code soft_time_limit}, {@code shadow}, {@code headers}, {@code ignore_result},
   * {@code retries}, {@code reply_to}; others are ignored, as kombu drops them.
   *
   * @param parentId {@code parent_id} when the options do not name one, or null
   * @param rootId {@code root_id} when the options do not name one; null = the task's own id
   * @param defaultQueue routing when the options name none
   */
  public static OutgoingMessage fromOptions(
      String name,
      String id,
      List<Object> args,
      Map<String, Object> kwargs,
      Map<String, Object> options,
      String parentId,
      String rootId,
      String origin,
      String defaultQueue) {
    Instant now = Instant.now();
    Object eta = options.get("eta");
    Object countdown = options.get("countdown");
    if (eta == null && countdown instanceof Number n) {
      eta = now.plusNanos((long) (n.doubleValue() * 1e9));
    }
    Object expires = options.get("expires");
    Long expirationMs = null;
    if (expires instanceof Number n) {
      expires = now.plusNanos((long) (n.doubleValue() * 1e9));
    }
    if (expires instanceof Instant e) {
      expirationMs = Math.max(0, e.toEpochMilli() - now.toEpochMilli());
    }
    Object optParent = options.get("parent_id");
    Object optRoot = options.get("root_id");
    String root = optRoot != null ? optRoot.toString() : rootId != null ? rootId : id;
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("lang", "py");
    headers.put("task", name);
    headers.put("id", id);
    headers.put("shadow", options.get("shadow"));
    headers.put("eta", isoOrNull(eta));
    headers.put("expires", isoOrNull(expires));
    headers.put("group", options.get("group_id"));
    headers.put("group_index", options.get("group_index"));
    headers.put("retries", options.get("retries") instanceof Number r ? r.intValue() : 0);
    headers.put(
        "timelimit", Arrays.asList(options.get("time_limit"), options.get("soft_time_limit")));
    headers.put("root_id", root);
    headers.put("parent_id", optParent != null ? optParent.toString() : parentId);
    headers.put("argsrepr", PyRepr.tuple(args));
    headers.put("kwargsrepr", PyRepr.dict(kwargs));
    headers.put("origin", origin);
    headers.put("ignore_result", Boolean.TRUE.equals(options.get("ignore_result")));
    if (options.get("headers") instanceof Map<?, ?> extra) {
      extra.forEach((k, v) -> headers.putIfAbsent(String.valueOf(k), v));
    }
    Map<String, Object> embed = new LinkedHashMap<>();
    embed.put("callbacks", signatureList(options.get("link")));
    embed.put("errbacks", signatureList(options.get("link_error")));
    embed.put("chain", options.get("chain"));
    embed.put("chord", options.get("chord"));
    List<Object> body = new ArrayList<>(3);
    body.add(args);
    body.add(kwargs);
    body.add(embed);
    Map<String, Object> props = new LinkedHashMap<>();
    props.put("correlation_id", id);
    props.put(
        "reply_to", options.get("reply_to") instanceof String r ? r : ""); // Celery: reply_to or ''
    props.put("delivery_mode", 2);
    props.put("priority", options.get("priority") instanceof Number p ? p.intValue() : 0);
    if (expirationMs != null) {
      props.put("expiration", Long.toString(expirationMs));
    }
    String exchange = options.get("exchange") instanceof String x ? x : "";
    String queue = queueName(options.get("queue"));
    String routingKey =
        options.get("routing_key") instanceof String rk ? rk : queue != null ? queue : defaultQueue;
    if (exchange.isEmpty() && queue != null) {
      routingKey = queue; // the default exchange routes by queue name
    }
    return OutgoingMessage.json(exchange, routingKey, Json.encodePython(body), headers, props);
  }

  /**
   * A {@code queue} option is a name, or a kombu Queue serialised as a dict with a {@code name}.
   */
  private static String queueName(Object q) {
    if (q instanceof String s && !s.isEmpty()) {
      return s;
    }
    return q instanceof Map<?, ?> m && m.get("name") instanceof String s ? s : null;
  }

  private static String isoOrNull(Object t) {
    return t == null ? null : t instanceof Instant i ? IsoTime.utc(i) : t.toString();
  }

  /**
   * {@code link}/{@code link_error} may be one signature or a list; the embed always holds a list.
   */
  private static Object signatureList(Object v) {
    if (v == null || v instanceof List) {
      return v;
    }
    return List.of(v);
  }

  /**
   * The copy Celery's {@code Task.retry} publishes (docs/wire-protocol.md §8): same id, task,
   * shadow, group, group_index, root_id, timelimit, expires and ignore_result; {@code retries + 1};
   * a new {@code eta}; {@code parent_id} kept, or the task's own id when it had none; custom
   * headers not carried over; same correlation_id, reply_to and priority; the body's embed
   * unchanged. It goes back where it came from: through the default exchange to the queue it was
   * routed to, or to the same exchange and routing key.
   */
  public static OutgoingMessage retryOf(
      TaskMessage m,
      String exchange,
      String routingKey,
      Instant eta,
      List<Object> args,
      Map<String, Object> kwargs,
      String origin) {
    Map<String, Object> h = m.headers();
    List<Object> newArgs = args != null ? args : m.args();
    Map<String, Object> newKwargs = kwargs != null ? kwargs : m.kwargs();
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("lang", h.getOrDefault("lang", "py"));
    headers.put("task", m.task());
    headers.put("id", m.id());
    headers.put("shadow", h.get("shadow"));
    headers.put("eta", eta == null ? null : IsoTime.utc(eta));
    headers.put("expires", h.get("expires"));
    headers.put("group", h.get("group"));
    headers.put("group_index", h.get("group_index"));
    headers.put("retries", m.retries() + 1);
    headers.put("timelimit", h.getOrDefault("timelimit", Arrays.asList(null, null)));
    headers.put("root_id", h.get("root_id"));
    headers.put("parent_id", m.parentId() != null ? m.parentId() : m.id());
    headers.put("argsrepr", PyRepr.tuple(newArgs));
    headers.put("kwargsrepr", PyRepr.dict(newKwargs));
    headers.put("origin", origin);
    headers.put("ignore_result", h.getOrDefault("ignore_result", false));
    Map<String, Object> embed = new LinkedHashMap<>();
    for (String k : List.of("callbacks", "errbacks", "chain", "chord")) {
      embed.put(k, m.embed().get(k));
    }
    List<Object> body = new ArrayList<>(3);
    body.add(newArgs);
    body.add(newKwargs);
    body.add(embed);
    Map<String, Object> props = new LinkedHashMap<>();
    props.put("correlation_id", m.correlationId() != null ? m.correlationId() : m.id());
    props.put("reply_to", m.replyTo());
    props.put("delivery_mode", 2);
    props.put("priority", m.priority() == null ? 0 : m.priority());
    boolean viaDefault = exchange == null || exchange.isEmpty();
    return OutgoingMessage.json(
        viaDefault ? "" : exchange, routingKey, Json.encode(body), headers, props);
  }

  /** The task id of a message built by {@link #create}. */
  public static String id(OutgoingMessage m) {
    return (String) m.headers().get("id");
  }
}

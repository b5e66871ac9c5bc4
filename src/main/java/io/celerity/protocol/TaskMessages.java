package io.celerity.protocol;

import io.celerity.transport.OutgoingMessage;

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

  private TaskMessages() {
  }

  /** A message for {@code send_task(name, args, kwargs)} to {@code queue}. */
  public static OutgoingMessage create(String name, List<Object> args, Map<String, Object> kwargs, String queue,
                                       String origin, Instant eta, Instant expires, String replyTo) {
    String id = UUID.randomUUID().toString();
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("lang", "py");
    headers.put("task", name);
    headers.put("id", id);
    headers.put("shadow", null);
    headers.put("eta", eta == null ? null : IsoTime.utc(eta));
    headers.put("expires", expires == null ? null : IsoTime.utc(expires));
    headers.put("group", null);
    headers.put("group_index", null);
    headers.put("retries", 0);
    headers.put("timelimit", Arrays.asList(null, null));
    headers.put("root_id", id);
    headers.put("parent_id", null);
    headers.put("argsrepr", PyRepr.tuple(args));
    headers.put("kwargsrepr", PyRepr.dict(kwargs));
    headers.put("origin", origin);
    headers.put("ignore_result", false);
    Map<String, Object> embed = new LinkedHashMap<>();
    embed.put("callbacks", null);
    embed.put("errbacks", null);
    embed.put("chain", null);
    embed.put("chord", null);
    List<Object> body = new ArrayList<>(3);
    body.add(args);
    body.add(kwargs);
    body.add(embed);
    Map<String, Object> props = new LinkedHashMap<>();
    props.put("correlation_id", id);
    props.put("reply_to", replyTo);
    props.put("delivery_mode", 2);
    props.put("priority", 0);
    return OutgoingMessage.json("", queue, Json.encode(body), headers, props);
  }

  /**
   * The copy Celery's {@code Task.retry} publishes (wire reference section 8): same id, task,
   * shadow, group, group_index, root_id, timelimit, expires and ignore_result; {@code retries + 1};
   * a new {@code eta}; {@code parent_id} kept, or the task's own id when it had none; custom headers
   * not carried over; same correlation_id, reply_to and priority; the body's embed unchanged. It goes
   * back where it came from: through the default exchange to the queue it was routed to, or to the
   * same exchange and routing key.
   */
  public static OutgoingMessage retryOf(TaskMessage m, String exchange, String routingKey, Instant eta,
                                        List<Object> args, Map<String, Object> kwargs, String origin) {
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
    return OutgoingMessage.json(viaDefault ? "" : exchange, routingKey, Json.encode(body), headers, props);
  }

  /** The task id of a message built by {@link #create}. */
  public static String id(OutgoingMessage m) {
    return (String) m.headers().get("id");
  }
}

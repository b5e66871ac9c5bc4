package io.celerity.protocol;

import io.celerity.transport.Delivery;
import io.celerity.transport.OutgoingMessage;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The copy {@code Task.retry} publishes (wire protocol section 8). */
public final class RetryMessages {

  /** Celery's {@code Task.default_retry_delay}. */
  public static final double DEFAULT_RETRY_DELAY = 180;

  /** The headers a retry copy keeps; custom ones from {@code apply_async(headers=...)} are dropped, as Celery does. */
  private static final List<String> KEPT = List.of("lang", "task", "id", "shadow", "eta", "expires", "group",
    "group_index", "retries", "timelimit", "root_id", "parent_id", "argsrepr", "kwargsrepr", "origin", "ignore_result");

  private RetryMessages() {
  }

  /**
   * The retry copy of {@code msg}: same id and routing, {@code retries + 1}, {@code eta} now +
   * countdown (or the given eta), parent_id kept or set to the task's own id, new argsrepr.
   */
  public static OutgoingMessage copy(TaskMessage msg, Delivery delivery, List<Object> args, Map<String, Object> kwargs,
                                     Double countdown, String eta, String origin, Instant now) {
    List<Object> a = args != null ? args : msg.args();
    Map<String, Object> k = kwargs != null ? kwargs : msg.kwargs();
    Map<String, Object> headers = new LinkedHashMap<>();
    for (String key : KEPT) {
      headers.put(key, msg.headers().get(key));
    }
    headers.put("lang", "py");
    headers.put("task", msg.task());
    headers.put("id", msg.id());
    headers.put("retries", msg.retries() + 1);
    double delay = countdown != null ? countdown : DEFAULT_RETRY_DELAY;
    headers.put("eta", eta != null ? eta : IsoTime.utc(now.plusNanos((long) (delay * 1e9))));
    headers.put("root_id", msg.rootId() != null ? msg.rootId() : msg.id());
    headers.put("parent_id", msg.parentId() != null ? msg.parentId() : msg.id());
    headers.put("argsrepr", PyRepr.tuple(a));
    headers.put("kwargsrepr", PyRepr.dict(k));
    headers.put("origin", origin);
    List<Object> body = new ArrayList<>(3);
    body.add(a);
    body.add(k);
    body.add(msg.embed());
    Map<String, Object> props = new LinkedHashMap<>();
    props.put("correlation_id", msg.correlationId() != null ? msg.correlationId() : msg.id());
    props.put("reply_to", msg.replyTo());
    props.put("delivery_mode", 2);
    props.put("priority", delivery.priority() == null ? 0 : delivery.priority());
    boolean direct = delivery.exchange() == null || delivery.exchange().isEmpty();
    return OutgoingMessage.json(direct ? "" : delivery.exchange(), delivery.routingKey(), Json.encode(body), headers, props);
  }
}

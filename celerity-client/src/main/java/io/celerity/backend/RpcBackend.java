package io.celerity.backend;

import io.celerity.protocol.Json;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Future;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Celery's {@code rpc://} result backend (docs/wire-protocol.md §4.4): every state change is a
 * message to the default exchange, routed by the task's {@code reply_to} to the queue the client
 * declared, with {@code correlation_id} = the task id. Nothing is stored, so {@link #get} knows
 * nothing.
 *
 * <p>Results go out through the worker's own broker connection: the backend hands the message to
 * the worker's broker connection (the publisher given), which completes once the broker confirmed
 * it.
 */
public class RpcBackend implements ResultBackend {

  private final Function<OutgoingMessage, Future<Void>> publisher;

  public RpcBackend(Function<OutgoingMessage, Future<Void>> publisher) {
    this.publisher = publisher;
  }

  @Override
  public Future<Void> store(TaskResult result) {
    if (result.replyTo() == null || result.replyTo().isEmpty()) {
      return Future.succeededFuture(); // Celery sends nothing without a reply queue
    }
    OutgoingMessage m;
    try {
      m = message(result);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return publisher.apply(m);
  }

  /** The reply message: no date_done, no extended fields, delivery_mode 1, empty headers. */
  static OutgoingMessage message(TaskResult r) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("task_id", r.taskId());
    body.put("status", r.status());
    body.put("result", r.result());
    body.put("traceback", r.traceback());
    body.put("children", r.children() == null ? List.of() : r.children());
    Map<String, Object> props = new LinkedHashMap<>();
    props.put("correlation_id", r.correlationId() == null ? r.taskId() : r.correlationId());
    props.put("delivery_mode", 1);
    props.put("priority", 0);
    return OutgoingMessage.json("", r.replyTo(), Json.encode(body), Map.of(), props);
  }

  @Override
  public Future<Map<String, Object>> get(String taskId) {
    return Future.succeededFuture(null);
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }
}

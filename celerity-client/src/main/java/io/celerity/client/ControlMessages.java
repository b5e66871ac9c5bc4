package io.celerity.client;

import io.celerity.protocol.Json;
import io.celerity.types.OutgoingMessage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Remote-control broadcasts as Celery's {@code app.control} publishes them (kombu's pidbox
 * mailbox).
 */
final class ControlMessages {

  static final String PIDBOX_EXCHANGE = "celery.pidbox";

  /** {@code app.control.broadcast}'s default timeout: workers drop the command once it passed. */
  static final double BROADCAST_TIMEOUT_S = 1.0;

  private ControlMessages() {}

  /**
   * {@code app.control.revoke(task_id, terminate=..., signal=...)}: a fanout to every worker, no
   * reply asked; one id is sent as a string, several as a list.
   */
  static OutgoingMessage revoke(
      List<String> ids, boolean terminate, String signal, long clock, double nowEpochSeconds) {
    Map<String, Object> arguments = new LinkedHashMap<>();
    arguments.put("task_id", ids.size() == 1 ? ids.get(0) : ids);
    arguments.put("terminate", terminate);
    arguments.put("signal", signal == null ? "SIGTERM" : signal);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("method", "revoke");
    body.put("arguments", arguments);
    body.put("destination", null);
    body.put("pattern", null);
    body.put("matcher", null);
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("clock", clock);
    headers.put("expires", nowEpochSeconds + BROADCAST_TIMEOUT_S);
    Map<String, Object> props = new LinkedHashMap<>();
    props.put("delivery_mode", 1);
    props.put("priority", 0);
    props.put(OutgoingMessage.DECLARE_EXCHANGE, "fanout");
    return OutgoingMessage.json(PIDBOX_EXCHANGE, "", Json.encodePython(body), headers, props);
  }
}

package io.celerity.client;

import io.celerity.canvas.Launch;
import io.celerity.canvas.Signature;
import io.celerity.protocol.Json;
import io.celerity.protocol.TaskMessages;
import io.celerity.types.OutgoingMessage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** The messages a client publishes, built without a connection (docs/wire-protocol.md §5.1). */
final class ClientMessages {

  private ClientMessages() {}

  /**
   * Celery's {@code send_task}: a new id unless {@code task_id} is given, {@code reply_to} = the
   * client's oid, no parent, the task its own root.
   */
  @SuppressWarnings("unchecked")
  static OutgoingMessage task(
      String name,
      List<?> args,
      Map<String, ?> kwargs,
      SendOptions sendOptions,
      String oid,
      String origin,
      String defaultQueue) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("task name is required");
    }
    Map<String, Object> o = sendOptions == null ? new LinkedHashMap<>() : sendOptions.toMap();
    Object taskId = o.remove("task_id");
    String id = taskId != null ? taskId.toString() : UUID.randomUUID().toString();
    o.putIfAbsent("reply_to", oid);
    // records and beans become JSON values first, so argsrepr shows what the worker will receive
    List<Object> a =
        args == null ? new ArrayList<>() : (List<Object>) Json.toJsonValue(new ArrayList<>(args));
    Map<String, Object> k =
        kwargs == null
            ? new LinkedHashMap<>()
            : (Map<String, Object>) Json.toJsonValue(new LinkedHashMap<>(kwargs));
    return TaskMessages.fromOptions(name, id, a, k, o, null, null, origin, defaultQueue);
  }

  /** Celery's {@code sig.apply_async(**options)} from a client. */
  static Launch launch(
      Signature sig, SendOptions sendOptions, String oid, String origin, String defaultQueue) {
    Map<String, Object> call = sendOptions == null ? Map.of() : sendOptions.toMap();
    return Launch.of(sig, origin, defaultQueue, oid, call, null, null);
  }
}

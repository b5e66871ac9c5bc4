package io.celerity.client;

import java.util.List;
import java.util.Map;

/**
 * The task failed (or was revoked): what {@code AsyncResult.get()} re-raises in Python, as a Java
 * exception carrying Celery's encoding of the task's exception ({@code exc_type}, {@code
 * exc_module}, {@code exc_message}) and the worker's traceback text. The message is {@code Type:
 * message}, as Python prints it.
 */
public class TaskFailedException extends RuntimeException {

  private final String taskId;
  private final String state;
  private final String excType;
  private final String excModule;
  private final List<Object> excMessage;
  private final String traceback;

  public TaskFailedException(
      String taskId,
      String state,
      String excType,
      String excModule,
      List<Object> excMessage,
      String traceback) {
    super(excType + ": " + text(excMessage));
    this.taskId = taskId;
    this.state = state;
    this.excType = excType;
    this.excModule = excModule;
    this.excMessage =
        excMessage == null
            ? List.of()
            : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(excMessage));
    this.traceback = traceback;
  }

  /** Python's {@code str(exc)}: the only argument, or the argument tuple. */
  static String text(List<Object> args) {
    if (args == null || args.isEmpty()) {
      return "";
    }
    return args.size() == 1 ? String.valueOf(args.get(0)) : io.celerity.protocol.PyRepr.tuple(args);
  }

  /**
   * The exception a FAILURE or REVOKED result document stands for; {@code result} is Celery's
   * {@code {"exc_type", "exc_message", "exc_module"}}, anything else is reported as its text.
   */
  @SuppressWarnings("unchecked")
  static TaskFailedException of(String taskId, String state, Object result, Object traceback) {
    String tb = traceback == null ? null : traceback.toString();
    if (result instanceof Map<?, ?> m && m.get("exc_type") != null) {
      Object msg = m.get("exc_message");
      List<Object> args =
          msg instanceof List<?> l ? (List<Object>) l : msg == null ? List.of() : List.of(msg);
      Object module = m.get("exc_module");
      return new TaskFailedException(
          taskId,
          state,
          m.get("exc_type").toString(),
          module == null ? null : module.toString(),
          args,
          tb);
    }
    return new TaskFailedException(
        taskId, state, "Exception", "builtins", result == null ? List.of() : List.of(result), tb);
  }

  public String taskId() {
    return taskId;
  }

  /** {@code FAILURE} or {@code REVOKED}. */
  public String state() {
    return state;
  }

  /** Python class name of the exception, e.g. {@code ValueError}. */
  public String excType() {
    return excType;
  }

  /** Its module, e.g. {@code builtins}; may be null. */
  public String excModule() {
    return excModule;
  }

  /** The exception's arguments ({@code exc_message}). */
  public List<Object> excMessage() {
    return excMessage;
  }

  /** The worker's traceback text, or null. */
  public String traceback() {
    return traceback;
  }
}

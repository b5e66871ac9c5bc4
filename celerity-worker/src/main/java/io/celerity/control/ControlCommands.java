package io.celerity.control;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Remote-control commands by name (Celery's {@code Panel}), each declared once with its kind. A
 * handler gets the request's {@code arguments} and returns the reply value; Celery's conventions:
 * {@code {"ok": ...}} or {@code {"error": ...}} for control commands, bare values for inspect
 * commands. The kind decides what the HTTP bridge opens without a token (inspect commands only read
 * state).
 */
public final class ControlCommands {

  /** Celery's {@code inspect_command} and {@code control_command}. */
  public enum Kind {
    INSPECT,
    CONTROL
  }

  /** One command. */
  @FunctionalInterface
  public interface Handler {
    Future<Object> handle(JsonObject arguments);
  }

  /** Returned by a handler that must not reply at all (Celery's {@code shutdown}). */
  public static final Object NO_REPLY = new Object();

  private final Map<String, Handler> handlers = new TreeMap<>();
  private final Map<String, Kind> kinds = new TreeMap<>();

  /** A command that only reads state. */
  public ControlCommands inspect(String name, Handler handler) {
    return register(name, Kind.INSPECT, handler);
  }

  /** A command that changes state. */
  public ControlCommands control(String name, Handler handler) {
    return register(name, Kind.CONTROL, handler);
  }

  public ControlCommands register(String name, Kind kind, Handler handler) {
    handlers.put(name, handler);
    kinds.put(name, kind);
    return this;
  }

  /** Also answers to {@code alias} (Celery's {@code dump_*} names), with the same kind. */
  public ControlCommands alias(String alias, String name) {
    handlers.put(alias, handlers.get(name));
    kinds.put(alias, kinds.get(name));
    return this;
  }

  /** The kind of a declared command, or null. */
  public Kind kind(String name) {
    return kinds.get(name);
  }

  public Set<String> names() {
    return Collections.unmodifiableSet(handlers.keySet());
  }

  /**
   * Runs a command; an unknown name or a failing handler gives Celery's error reply, never an
   * exception.
   */
  public Future<Object> dispatch(String method, JsonObject arguments) {
    Handler h = handlers.get(method);
    if (h == null) {
      return Future.succeededFuture(Map.of("error", "KeyError('" + method + "')"));
    }
    try {
      return h.handle(arguments == null ? new JsonObject() : arguments)
          .recover(err -> Future.succeededFuture(Map.of("error", repr(err))));
    } catch (RuntimeException e) {
      return Future.succeededFuture(Map.of("error", repr(e)));
    }
  }

  private static String repr(Throwable t) {
    String type =
        t instanceof IllegalArgumentException ? "ValueError" : t.getClass().getSimpleName();
    return type + "(" + io.celerity.protocol.PyRepr.of(String.valueOf(t.getMessage())) + ")";
  }
}

package io.celerity.pool;

import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.Json;
import io.celerity.task.TaskContext;
import io.celerity.task.TaskError;
import io.celerity.task.TaskFunction;

import java.util.List;

/** Runs one Java task body on the calling thread and encodes how it ended, as Celery's trace does. */
public final class Bodies {

  /** How a body ended: a JSON-ready value, or the exception as Celery encodes it. */
  public record Ended(Object value, ExceptionInfo error) {
  }

  private Bodies() {
  }

  /** Runs {@code function}; an interrupt after the soft time limit becomes SoftTimeLimitExceeded. */
  public static Ended run(TaskFunction function, TaskContext ctx) {
    Object value = null;
    ExceptionInfo error = null;
    try {
      Object returned = function.run(ctx);
      try {
        value = Json.toJsonValue(returned);
      } catch (IllegalArgumentException notJson) {
        // kombu raises EncodeError when a result cannot be serialised
        error = ExceptionInfo.from(new TaskError("kombu.exceptions", "EncodeError", notJson.getMessage()));
      }
    } catch (Throwable t) {
      error = ctx.softTimeLimitExceeded() && (t instanceof InterruptedException || t.getCause() instanceof InterruptedException)
        ? new ExceptionInfo("SoftTimeLimitExceeded", ExceptionInfo.BILLIARD_EXCEPTIONS, List.of(), ExceptionInfo.traceback(t))
        : ExceptionInfo.from(t);
    } finally {
      Thread.interrupted(); // a late soft-limit interrupt must not leak into the next task on this thread
    }
    return new Ended(value, error);
  }
}

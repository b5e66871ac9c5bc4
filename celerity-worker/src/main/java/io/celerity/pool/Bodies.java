package io.celerity.pool;

import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.Json;
import io.celerity.task.Replace;
import io.celerity.task.Retry;
import io.celerity.task.TaskContext;
import io.celerity.task.TaskError;
import io.celerity.task.TaskFunction;
import io.celerity.task.TaskOptions;
import java.util.List;

/**
 * Runs one Java task body on the calling thread and encodes how it ended, as Celery's trace does.
 */
public final class Bodies {

  /**
   * How a body ended: a JSON-ready value, the exception as Celery encodes it, or a retry (then
   * {@code error} is its reason, possibly null).
   */
  public record Ended(Object value, ExceptionInfo error, Retry retry) {

    public Ended(Object value, ExceptionInfo error) {
      this(value, error, null);
    }
  }

  private Bodies() {}

  /**
   * Runs {@code function}: an interrupt after the soft time limit becomes SoftTimeLimitExceeded, an
   * exception listed in {@code autoretry_for} a retry (or, once retries are used up, the failure).
   */
  public static Ended run(TaskFunction function, TaskContext ctx, TaskOptions options) {
    try (io.celerity.types.TaskMdc.Scope mdc =
        io.celerity.types.TaskMdc.enter(ctx.id(), ctx.taskName())) {
      Object returned;
      try {
        returned = runWithAutoretry(function, ctx, options);
      } catch (Throwable t) {
        return failed(t, ctx);
      }
      return returned(returned);
    } finally {
      Thread.interrupted(); // a late soft-limit interrupt must not leak into the next task on this
      // thread
    }
  }

  /** A body's value, encoded as JSON (kombu's EncodeError when it cannot be). */
  static Ended returned(Object returned) {
    try {
      return new Ended(Json.toJsonValue(returned), null);
    } catch (IllegalArgumentException notJson) {
      // kombu raises EncodeError when a result cannot be serialised
      return new Ended(
          null,
          ExceptionInfo.from(
              new TaskError("kombu.exceptions", "EncodeError", notJson.getMessage())));
    }
  }

  /**
   * A body that raised {@code t}: a retry, or the failure as Celery encodes it. After the soft time
   * limit an interrupt (thread tasks) or a cancellation (async tasks) is Celery's
   * SoftTimeLimitExceeded.
   */
  static Ended failed(Throwable t, TaskContext ctx) {
    if (t instanceof Retry r) {
      return new Ended(null, r.reason() == null ? null : ExceptionInfo.from(r.reason()), r);
    }
    boolean stopped =
        t instanceof InterruptedException
            || t.getCause() instanceof InterruptedException
            || t instanceof java.util.concurrent.CancellationException;
    return new Ended(
        null,
        ctx.softTimeLimitExceeded() && stopped
            ? new ExceptionInfo(
                "SoftTimeLimitExceeded",
                ExceptionInfo.BILLIARD_EXCEPTIONS,
                List.of(),
                ExceptionInfo.traceback(t))
            : ExceptionInfo.from(t));
  }

  /**
   * An exception a task raised: rethrown as is when it is a retry, a replace or not in {@code
   * autoretry_for}; else turned into the retry (or, once retries are used up, the failure).
   */
  static Throwable autoretry(Throwable t, TaskContext ctx, TaskOptions o) {
    if (t instanceof Retry
        || t instanceof Replace
        || !(t instanceof Exception)
        || !Retries.autoretries(o, t)) {
      return t; // Celery's autoretry re-raises Retry and Ignore (replace) whatever autoretry_for
      // says
    }
    try {
      return ctx.retry(t, Retries.countdown(o, ctx.retries()), null, null, null);
    } catch (Throwable used) {
      return used; // retries used up: the task's own exception, or MaxRetriesExceededError
    }
  }

  private static Object runWithAutoretry(TaskFunction function, TaskContext ctx, TaskOptions o)
      throws Throwable {
    try {
      return function.run(ctx);
    } catch (Exception e) {
      throw autoretry(e, ctx, o);
    }
  }
}

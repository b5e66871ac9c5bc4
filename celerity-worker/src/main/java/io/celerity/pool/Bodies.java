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

/** Runs one Java task body on the calling thread and encodes how it ended, as Celery's trace does. */
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

  private Bodies() {
  }

  /**
   * Runs {@code function}: an interrupt after the soft time limit becomes SoftTimeLimitExceeded, an
   * exception listed in {@code autoretry_for} a retry (or, once retries are used up, the failure).
   */
  public static Ended run(TaskFunction function, TaskContext ctx, TaskOptions options) {
    Object value = null;
    ExceptionInfo error = null;
    try (io.celerity.types.TaskMdc.Scope mdc = io.celerity.types.TaskMdc.enter(ctx.id(), ctx.taskName())) {
      Object returned = runWithAutoretry(function, ctx, options);
      try {
        value = Json.toJsonValue(returned);
      } catch (IllegalArgumentException notJson) {
        // kombu raises EncodeError when a result cannot be serialised
        error = ExceptionInfo.from(new TaskError("kombu.exceptions", "EncodeError", notJson.getMessage()));
      }
    } catch (Retry r) {
      return new Ended(null, r.reason() == null ? null : ExceptionInfo.from(r.reason()), r);
    } catch (Throwable t) {
      error = ctx.softTimeLimitExceeded() && (t instanceof InterruptedException || t.getCause() instanceof InterruptedException)
        ? new ExceptionInfo("SoftTimeLimitExceeded", ExceptionInfo.BILLIARD_EXCEPTIONS, List.of(), ExceptionInfo.traceback(t))
        : ExceptionInfo.from(t);
    } finally {
      Thread.interrupted(); // a late soft-limit interrupt must not leak into the next task on this thread
    }
    return new Ended(value, error);
  }

  private static Object runWithAutoretry(TaskFunction function, TaskContext ctx, TaskOptions o) throws Exception {
    try {
      return function.run(ctx);
    } catch (Retry | Replace r) {
      throw r; // Celery's autoretry re-raises Retry and Ignore (replace) whatever autoretry_for says
    } catch (Exception e) {
      if (!Retries.autoretries(o, e)) {
        throw e;
      }
      throw ctx.retry(e, Retries.countdown(o, ctx.retries()), null, null, null);
    }
  }
}

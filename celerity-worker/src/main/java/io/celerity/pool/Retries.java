package io.celerity.pool;

import io.celerity.protocol.PyRepr;
import io.celerity.task.Retry;
import io.celerity.task.TaskContext;
import io.celerity.task.TaskError;
import io.celerity.task.TaskOptions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** Celery's retry arithmetic: autoretry matching and exponential backoff with jitter. */
public final class Retries {

  private Retries() {}

  /** True when {@code t} is one of the task's {@code autoretry_for} types. */
  static boolean autoretries(TaskOptions o, Throwable t) {
    for (Class<? extends Throwable> c : o.autoretryFor()) {
      if (c.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The countdown of an automatic retry: {@code default_retry_delay}, or with {@code retry_backoff}
   * {@code min(max, backoff x 2^retries)}, then with jitter a random whole number of seconds in
   * {@code [0, countdown]} (Celery's {@code get_exponential_backoff_interval}).
   */
  static double countdown(TaskOptions o, int retries) {
    if (o.retryBackoff() <= 0) {
      return o.defaultRetryDelay();
    }
    double countdown = Math.min(o.retryBackoffMax(), o.retryBackoff() * Math.pow(2, retries));
    if (o.retryJitter()) {
      countdown = ThreadLocalRandom.current().nextLong((long) countdown + 1);
    }
    return Math.max(0, countdown);
  }

  /**
   * Celery's {@code Task.retry} decision: a {@link Retry} to throw, or, once {@code max_retries}
   * are used up, the task's own exception (or {@code MaxRetriesExceededError}) thrown right here.
   */
  public static Retry retry(
      TaskContext ctx,
      TaskOptions o,
      Throwable exc,
      Double countdown,
      Integer maxRetries,
      List<Object> args,
      Map<String, Object> kwargs) {
    int limit = maxRetries != null ? maxRetries : o.maxRetries();
    if (limit != TaskOptions.UNLIMITED_RETRIES && ctx.retries() >= limit) {
      if (exc != null) {
        throw sneaky(exc);
      }
      throw new TaskError(
          "celery.exceptions",
          "MaxRetriesExceededError",
          "Can't retry "
              + ctx.taskName()
              + "["
              + ctx.id()
              + "] args:"
              + PyRepr.tuple(ctx.args())
              + " kwargs:"
              + PyRepr.dict(ctx.kwargs()));
    }
    double delay = countdown != null ? countdown : o.defaultRetryDelay();
    return new Retry(exc, Instant.now().plusNanos((long) (delay * 1e9)), delay, args, kwargs);
  }

  /**
   * Rethrows any throwable unchecked (to re-raise a task's own exception when retries are
   * exhausted).
   */
  @SuppressWarnings("unchecked")
  static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
    throw (T) t;
  }
}

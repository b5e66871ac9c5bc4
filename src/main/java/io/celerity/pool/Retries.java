package io.celerity.pool;

import io.celerity.task.TaskOptions;

import java.util.concurrent.ThreadLocalRandom;

/** Celery's retry arithmetic: autoretry matching and exponential backoff with jitter. */
final class Retries {

  private Retries() {
  }

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

  /** Rethrows any throwable unchecked (to re-raise a task's own exception when retries are exhausted). */
  @SuppressWarnings("unchecked")
  static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
    throw (T) t;
  }
}

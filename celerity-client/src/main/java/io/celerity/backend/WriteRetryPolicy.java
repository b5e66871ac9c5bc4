package io.celerity.backend;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How result writes are retried, with Celery's settings and timing.
 *
 * <p>Celery's Redis and RPC backends send a result through kombu's {@code retry_over_time} with
 * their {@code retry_policy} (default {@code max_retries=20, interval_start=0, interval_step=1,
 * interval_max=1}: waits of 0, 1, 1, ... seconds, about 19 s before giving up; overridable with
 * {@code result_backend_transport_options = {"retry_policy": {...}}}). That is the inner loop here.
 *
 * <p>With {@code result_backend_always_retry}, Celery's {@code BaseBackend.store_result} retries
 * the whole store again after the inner loop gave up, up to {@code result_backend_max_retries}
 * times (default: forever), sleeping a full-jitter exponential backoff between attempts: {@code
 * random(0 .. min(max_sleep, base_sleep * 2^n))} ms with {@code base_sleep=10}, {@code
 * max_sleep=10000}. (Celery 5.2's Redis backend never declares a connection error "safe to retry",
 * so there the setting has no effect; here it applies to the Redis and RPC backends.)
 *
 * @param maxRetries inner loop: retries after the first attempt (negative: forever)
 * @param intervalStart inner loop: first wait, seconds
 * @param intervalStep inner loop: added per retry, seconds
 * @param intervalMax inner loop: longest wait above {@code intervalStart}, seconds
 * @param alwaysRetry {@code result_backend_always_retry}
 * @param outerMaxRetries {@code result_backend_max_retries} (negative: forever)
 * @param baseSleepMs {@code result_backend_base_sleep_between_retries_ms}
 * @param maxSleepMs {@code result_backend_max_sleep_between_retries_ms}
 */
public record WriteRetryPolicy(
    int maxRetries,
    double intervalStart,
    double intervalStep,
    double intervalMax,
    boolean alwaysRetry,
    long outerMaxRetries,
    long baseSleepMs,
    long maxSleepMs) {

  /** Celery's defaults. */
  public static final WriteRetryPolicy CELERY =
      new WriteRetryPolicy(20, 0, 1, 1, false, -1, 10, 10_000);

  /** Never retry (memory backend, tests). */
  public static final WriteRetryPolicy NONE = new WriteRetryPolicy(0, 0, 0, 0, false, 0, 0, 0);

  /**
   * From the worker's options: {@code result_backend_transport_options.retry_policy} and the {@code
   * result_backend_*} retry settings, each defaulting to Celery's value.
   */
  public static WriteRetryPolicy from(
      JsonObject transportOptions,
      boolean alwaysRetry,
      Long maxRetries,
      long baseSleepMs,
      long maxSleepMs) {
    JsonObject rp =
        transportOptions == null ? null : transportOptions.getJsonObject("retry_policy");
    if (rp == null) {
      rp = new JsonObject();
    }
    Number inner = rp.getNumber("max_retries", CELERY.maxRetries);
    return new WriteRetryPolicy(
        inner == null ? -1 : inner.intValue(),
        rp.getNumber("interval_start", CELERY.intervalStart).doubleValue(),
        rp.getNumber("interval_step", CELERY.intervalStep).doubleValue(),
        rp.getNumber("interval_max", CELERY.intervalMax).doubleValue(),
        alwaysRetry,
        maxRetries == null ? -1 : maxRetries,
        baseSleepMs,
        maxSleepMs);
  }

  /** Whether the inner loop may retry after {@code retries} retries. */
  public boolean innerRetryLeft(int retries) {
    return maxRetries < 0 || retries < maxRetries;
  }

  /**
   * kombu's {@code fxrange(start, start + max, step, repeatlast=True)}: the wait before inner retry
   * number {@code retries} (0-based), in milliseconds.
   */
  public long innerDelayMillis(int retries) {
    double stop = intervalStart + intervalMax;
    double wait = intervalStart + retries * intervalStep;
    if (wait > stop) {
      double steps = intervalStep <= 0 ? 0 : Math.floor(intervalMax / intervalStep);
      wait = intervalStart + steps * intervalStep; // the last value within the range, repeated
    }
    return Math.max(0, Math.round(wait * 1000));
  }

  /**
   * Whether the outer loop ({@code result_backend_always_retry}) may try again after {@code
   * retries} retries.
   */
  public boolean outerRetryLeft(long retries) {
    return alwaysRetry && (outerMaxRetries < 0 || retries < outerMaxRetries);
  }

  /**
   * Celery's {@code get_exponential_backoff_interval(base, retries, max, full_jitter=True)}, ms.
   */
  public long outerDelayMillis(long retries) {
    double cap = Math.min((double) maxSleepMs, baseSleepMs * Math.pow(2, retries));
    return ThreadLocalRandom.current().nextLong((long) Math.max(0, cap) + 1);
  }
}

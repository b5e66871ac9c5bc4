package io.celerity.task;

import java.util.List;

/**
 * Per-task options, Celery's task attributes. A null value means "use the worker's setting"
 * (or Celery's default where the worker has none). Immutable; the {@code with*} methods return
 * modified copies.
 */
public final class TaskOptions {

  /** Celery's {@code Task.max_retries} default. */
  public static final int DEFAULT_MAX_RETRIES = 3;
  /** Celery's {@code Task.default_retry_delay}, seconds. */
  public static final double DEFAULT_RETRY_DELAY = 180;
  /** Celery's {@code Task.retry_backoff_max}, seconds. */
  public static final double DEFAULT_RETRY_BACKOFF_MAX = 600;
  /** {@link #maxRetries()} value meaning "retry for ever" (Python's {@code max_retries=None}). */
  public static final int UNLIMITED_RETRIES = -1;

  /** No per-task options: every behaviour follows the worker's configuration. */
  public static final TaskOptions DEFAULTS = new TaskOptions(null, null, null, null, null);

  private final Boolean acksLate;
  private final Boolean trackStarted;
  private final Boolean ignoreResult;
  private final Double timeLimit;
  private final Double softTimeLimit;
  private final String rateLimit;
  private final Integer maxRetries;
  private final Double defaultRetryDelay;
  private final List<Class<? extends Throwable>> autoretryFor;
  private final double retryBackoff;
  private final double retryBackoffMax;
  private final boolean retryJitter;
  private final Boolean storeErrorsEvenIfIgnored;
  private final Boolean acksOnFailureOrTimeout;
  private final Boolean rejectOnWorkerLost;

  /**
   * @param acksLate      {@code acks_late}
   * @param trackStarted  {@code track_started}
   * @param ignoreResult  {@code ignore_result}
   * @param timeLimit     {@code time_limit} seconds
   * @param softTimeLimit {@code soft_time_limit} seconds
   */
  public TaskOptions(Boolean acksLate, Boolean trackStarted, Boolean ignoreResult, Double timeLimit, Double softTimeLimit) {
    this(acksLate, trackStarted, ignoreResult, timeLimit, softTimeLimit, null, null, null, List.of(), 0,
      DEFAULT_RETRY_BACKOFF_MAX, true, null, null, null);
  }

  private TaskOptions(Boolean acksLate, Boolean trackStarted, Boolean ignoreResult, Double timeLimit, Double softTimeLimit,
                      String rateLimit, Integer maxRetries, Double defaultRetryDelay,
                      List<Class<? extends Throwable>> autoretryFor, double retryBackoff, double retryBackoffMax,
                      boolean retryJitter, Boolean storeErrorsEvenIfIgnored, Boolean acksOnFailureOrTimeout,
                      Boolean rejectOnWorkerLost) {
    this.acksLate = acksLate;
    this.trackStarted = trackStarted;
    this.ignoreResult = ignoreResult;
    this.timeLimit = timeLimit;
    this.softTimeLimit = softTimeLimit;
    this.rateLimit = rateLimit;
    this.maxRetries = maxRetries;
    this.defaultRetryDelay = defaultRetryDelay;
    this.autoretryFor = List.copyOf(autoretryFor);
    this.retryBackoff = retryBackoff;
    this.retryBackoffMax = retryBackoffMax;
    this.retryJitter = retryJitter;
    this.storeErrorsEvenIfIgnored = storeErrorsEvenIfIgnored;
    this.acksOnFailureOrTimeout = acksOnFailureOrTimeout;
    this.rejectOnWorkerLost = rejectOnWorkerLost;
  }

  private TaskOptions copy(Boolean acksLate, Boolean trackStarted, Boolean ignoreResult, Double timeLimit,
                           Double softTimeLimit, String rateLimit, Integer maxRetries, Double defaultRetryDelay,
                           List<Class<? extends Throwable>> autoretryFor, double retryBackoff, double retryBackoffMax,
                           boolean retryJitter, Boolean storeErrorsEvenIfIgnored, Boolean acksOnFailureOrTimeout,
                           Boolean rejectOnWorkerLost) {
    return new TaskOptions(acksLate, trackStarted, ignoreResult, timeLimit, softTimeLimit, rateLimit, maxRetries,
      defaultRetryDelay, autoretryFor, retryBackoff, retryBackoffMax, retryJitter, storeErrorsEvenIfIgnored,
      acksOnFailureOrTimeout, rejectOnWorkerLost);
  }

  public TaskOptions withAcksLate(boolean v) {
    return copy(v, trackStarted, ignoreResult, timeLimit, softTimeLimit, rateLimit, maxRetries, defaultRetryDelay,
      autoretryFor, retryBackoff, retryBackoffMax, retryJitter, storeErrorsEvenIfIgnored, acksOnFailureOrTimeout, rejectOnWorkerLost);
  }

  public TaskOptions withTrackStarted(boolean v) {
    return copy(acksLate, v, ignoreResult, timeLimit, softTimeLimit, rateLimit, maxRetries, defaultRetryDelay,
      autoretryFor, retryBackoff, retryBackoffMax, retryJitter, storeErrorsEvenIfIgnored, acksOnFailureOrTimeout, rejectOnWorkerLost);
  }

  public TaskOptions withIgnoreResult(boolean v) {
    return copy(acksLate, trackStarted, v, timeLimit, softTimeLimit, rateLimit, maxRetries, defaultRetryDelay,
      autoretryFor, retryBackoff, retryBackoffMax, retryJitter, storeErrorsEvenIfIgnored, acksOnFailureOrTimeout, rejectOnWorkerLost);
  }

  /** Hard and soft time limits in seconds; null for none. */
  public TaskOptions withTimeLimits(Double hard, Double soft) {
    return copy(acksLate, trackStarted, ignoreResult, hard, soft, rateLimit, maxRetries, defaultRetryDelay,
      autoretryFor, retryBackoff, retryBackoffMax, retryJitter, storeErrorsEvenIfIgnored, acksOnFailureOrTimeout, rejectOnWorkerLost);
  }

  /** Celery's rate limit string ({@code "10/s"}, {@code "100/m"}, {@code "1000/h"}); null for none. */
  public TaskOptions withRateLimit(String v) {
    return copy(acksLate, trackStarted, ignoreResult, timeLimit, softTimeLimit, v, maxRetries, defaultRetryDelay,
      autoretryFor, retryBackoff, retryBackoffMax, retryJitter, storeErrorsEvenIfIgnored, acksOnFailureOrTimeout, rejectOnWorkerLost);
  }

  /** {@code max_retries} ({@link #UNLIMITED_RETRIES} for none) and {@code default_retry_delay} seconds. */
  public TaskOptions withRetries(int maxRetries, double defaultRetryDelay) {
    return copy(acksLate, trackStarted, ignoreResult, timeLimit, softTimeLimit, rateLimit, maxRetries, defaultRetryDelay,
      autoretryFor, retryBackoff, retryBackoffMax, retryJitter, storeErrorsEvenIfIgnored, acksOnFailureOrTimeout, rejectOnWorkerLost);
  }

  /**
   * Celery's {@code autoretry_for}, {@code retry_backoff} (0 = off, else the base factor in
   * seconds), {@code retry_backoff_max} and {@code retry_jitter}.
   */
  public TaskOptions withAutoretry(List<Class<? extends Throwable>> types, double backoff, double backoffMax, boolean jitter) {
    return copy(acksLate, trackStarted, ignoreResult, timeLimit, softTimeLimit, rateLimit, maxRetries, defaultRetryDelay,
      types, backoff, backoffMax, jitter, storeErrorsEvenIfIgnored, acksOnFailureOrTimeout, rejectOnWorkerLost);
  }

  /** {@code store_errors_even_if_ignored}, {@code acks_on_failure_or_timeout}, {@code reject_on_worker_lost}. */
  public TaskOptions withAckPolicy(Boolean storeErrorsEvenIfIgnored, Boolean acksOnFailureOrTimeout, Boolean rejectOnWorkerLost) {
    return copy(acksLate, trackStarted, ignoreResult, timeLimit, softTimeLimit, rateLimit, maxRetries, defaultRetryDelay,
      autoretryFor, retryBackoff, retryBackoffMax, retryJitter, storeErrorsEvenIfIgnored, acksOnFailureOrTimeout, rejectOnWorkerLost);
  }

  public Boolean acksLate() {
    return acksLate;
  }

  public Boolean trackStarted() {
    return trackStarted;
  }

  public Boolean ignoreResult() {
    return ignoreResult;
  }

  public Double timeLimit() {
    return timeLimit;
  }

  public Double softTimeLimit() {
    return softTimeLimit;
  }

  public String rateLimit() {
    return rateLimit;
  }

  /** {@code max_retries}: Celery's 3 unless set; {@link #UNLIMITED_RETRIES} for none. */
  public int maxRetries() {
    return maxRetries == null ? DEFAULT_MAX_RETRIES : maxRetries;
  }

  public double defaultRetryDelay() {
    return defaultRetryDelay == null ? DEFAULT_RETRY_DELAY : defaultRetryDelay;
  }

  public List<Class<? extends Throwable>> autoretryFor() {
    return autoretryFor;
  }

  public double retryBackoff() {
    return retryBackoff;
  }

  public double retryBackoffMax() {
    return retryBackoffMax;
  }

  public boolean retryJitter() {
    return retryJitter;
  }

  public Boolean storeErrorsEvenIfIgnored() {
    return storeErrorsEvenIfIgnored;
  }

  public Boolean acksOnFailureOrTimeout() {
    return acksOnFailureOrTimeout;
  }

  public Boolean rejectOnWorkerLost() {
    return rejectOnWorkerLost;
  }

  /** Equal when every effective setting is equal (an unset retry limit equals Celery's default of 3). */
  @Override
  public boolean equals(Object o) {
    if (!(o instanceof TaskOptions t)) {
      return false;
    }
    return java.util.Objects.equals(acksLate, t.acksLate) && java.util.Objects.equals(trackStarted, t.trackStarted)
      && java.util.Objects.equals(ignoreResult, t.ignoreResult) && java.util.Objects.equals(timeLimit, t.timeLimit)
      && java.util.Objects.equals(softTimeLimit, t.softTimeLimit) && java.util.Objects.equals(rateLimit, t.rateLimit)
      && maxRetries() == t.maxRetries() && defaultRetryDelay() == t.defaultRetryDelay()
      && autoretryFor.equals(t.autoretryFor) && retryBackoff == t.retryBackoff && retryBackoffMax == t.retryBackoffMax
      && retryJitter == t.retryJitter && java.util.Objects.equals(storeErrorsEvenIfIgnored, t.storeErrorsEvenIfIgnored)
      && java.util.Objects.equals(acksOnFailureOrTimeout, t.acksOnFailureOrTimeout)
      && java.util.Objects.equals(rejectOnWorkerLost, t.rejectOnWorkerLost);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(acksLate, trackStarted, ignoreResult, timeLimit, softTimeLimit, rateLimit, maxRetries(),
      defaultRetryDelay(), autoretryFor, retryBackoff, retryBackoffMax, retryJitter);
  }

  static TaskOptions of(Task t) {
    return new TaskOptions(t.acksLate() ? Boolean.TRUE : null, t.trackStarted() ? Boolean.TRUE : null,
      t.ignoreResult() ? Boolean.TRUE : null, t.timeLimit() > 0 ? t.timeLimit() : null,
      t.softTimeLimit() > 0 ? t.softTimeLimit() : null, t.rateLimit().isEmpty() ? null : t.rateLimit(),
      t.maxRetries(), t.defaultRetryDelay(), List.of(t.autoretryFor()), t.retryBackoff(), t.retryBackoffMax(),
      t.retryJitter(), t.storeErrorsEvenIfIgnored() ? Boolean.TRUE : null, null, null);
  }
}

package io.celerity.task;

import java.util.List;

/**
 * Per-task options, Celery's task attributes. A null value means "use the worker's setting" (or
 * Celery's default where the worker has none). Immutable; the {@code with*} methods return modified
 * copies.
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
  public static final TaskOptions DEFAULTS = builder().build();

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

  private TaskOptions(Builder b) {
    this.acksLate = b.acksLate;
    this.trackStarted = b.trackStarted;
    this.ignoreResult = b.ignoreResult;
    this.timeLimit = b.timeLimit;
    this.softTimeLimit = b.softTimeLimit;
    this.rateLimit = b.rateLimit;
    this.maxRetries = b.maxRetries;
    this.defaultRetryDelay = b.defaultRetryDelay;
    this.autoretryFor = List.copyOf(b.autoretryFor);
    this.retryBackoff = b.retryBackoff;
    this.retryBackoffMax = b.retryBackoffMax;
    this.retryJitter = b.retryJitter;
    this.storeErrorsEvenIfIgnored = b.storeErrorsEvenIfIgnored;
    this.acksOnFailureOrTimeout = b.acksOnFailureOrTimeout;
    this.rejectOnWorkerLost = b.rejectOnWorkerLost;
  }

  /** Options with nothing set: each one named as it is set. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.acksLate = acksLate;
    b.trackStarted = trackStarted;
    b.ignoreResult = ignoreResult;
    b.timeLimit = timeLimit;
    b.softTimeLimit = softTimeLimit;
    b.rateLimit = rateLimit;
    b.maxRetries = maxRetries;
    b.defaultRetryDelay = defaultRetryDelay;
    b.autoretryFor = autoretryFor;
    b.retryBackoff = retryBackoff;
    b.retryBackoffMax = retryBackoffMax;
    b.retryJitter = retryJitter;
    b.storeErrorsEvenIfIgnored = storeErrorsEvenIfIgnored;
    b.acksOnFailureOrTimeout = acksOnFailureOrTimeout;
    b.rejectOnWorkerLost = rejectOnWorkerLost;
    return b;
  }

  /** Builds {@link TaskOptions}; a null value means "use the worker's setting". */
  public static final class Builder {
    private Boolean acksLate;
    private Boolean trackStarted;
    private Boolean ignoreResult;
    private Double timeLimit;
    private Double softTimeLimit;
    private String rateLimit;
    private Integer maxRetries;
    private Double defaultRetryDelay;
    private List<Class<? extends Throwable>> autoretryFor = List.of();
    private double retryBackoff;
    private double retryBackoffMax = DEFAULT_RETRY_BACKOFF_MAX;
    private boolean retryJitter = true;
    private Boolean storeErrorsEvenIfIgnored;
    private Boolean acksOnFailureOrTimeout;
    private Boolean rejectOnWorkerLost;

    private Builder() {}

    /** {@code acks_late}. */
    public Builder acksLate(Boolean v) {
      acksLate = v;
      return this;
    }

    /** {@code track_started}. */
    public Builder trackStarted(Boolean v) {
      trackStarted = v;
      return this;
    }

    /** {@code ignore_result}. */
    public Builder ignoreResult(Boolean v) {
      ignoreResult = v;
      return this;
    }

    /** {@code time_limit} and {@code soft_time_limit}, seconds; null for none. */
    public Builder timeLimits(Double hard, Double soft) {
      timeLimit = hard;
      softTimeLimit = soft;
      return this;
    }

    /**
     * Celery's rate limit string ({@code "10/s"}, {@code "100/m"}, {@code "1000/h"}); null for
     * none.
     */
    public Builder rateLimit(String v) {
      rateLimit = v;
      return this;
    }

    /** {@code max_retries} ({@link #UNLIMITED_RETRIES} for none). */
    public Builder maxRetries(Integer v) {
      maxRetries = v;
      return this;
    }

    /** {@code default_retry_delay}, seconds. */
    public Builder defaultRetryDelay(Double v) {
      defaultRetryDelay = v;
      return this;
    }

    /** {@code autoretry_for}. */
    public Builder autoretryFor(List<Class<? extends Throwable>> v) {
      autoretryFor = v;
      return this;
    }

    /** {@code retry_backoff}: 0 = off, else the base factor in seconds. */
    public Builder retryBackoff(double v) {
      retryBackoff = v;
      return this;
    }

    /** {@code retry_backoff_max}, seconds. */
    public Builder retryBackoffMax(double v) {
      retryBackoffMax = v;
      return this;
    }

    /** {@code retry_jitter}. */
    public Builder retryJitter(boolean v) {
      retryJitter = v;
      return this;
    }

    /** {@code store_errors_even_if_ignored}. */
    public Builder storeErrorsEvenIfIgnored(Boolean v) {
      storeErrorsEvenIfIgnored = v;
      return this;
    }

    /** {@code acks_on_failure_or_timeout}. */
    public Builder acksOnFailureOrTimeout(Boolean v) {
      acksOnFailureOrTimeout = v;
      return this;
    }

    /** {@code reject_on_worker_lost}. */
    public Builder rejectOnWorkerLost(Boolean v) {
      rejectOnWorkerLost = v;
      return this;
    }

    public TaskOptions build() {
      return new TaskOptions(this);
    }
  }

  public TaskOptions withAcksLate(boolean v) {
    return toBuilder().acksLate(v).build();
  }

  public TaskOptions withTrackStarted(boolean v) {
    return toBuilder().trackStarted(v).build();
  }

  public TaskOptions withIgnoreResult(boolean v) {
    return toBuilder().ignoreResult(v).build();
  }

  /** Hard and soft time limits in seconds; null for none. */
  public TaskOptions withTimeLimits(Double hard, Double soft) {
    return toBuilder().timeLimits(hard, soft).build();
  }

  /**
   * Celery's rate limit string ({@code "10/s"}, {@code "100/m"}, {@code "1000/h"}); null for none.
   */
  public TaskOptions withRateLimit(String v) {
    return toBuilder().rateLimit(v).build();
  }

  /**
   * {@code max_retries} ({@link #UNLIMITED_RETRIES} for none) and {@code default_retry_delay}
   * seconds.
   */
  public TaskOptions withRetries(int maxRetries, double defaultRetryDelay) {
    return toBuilder().maxRetries(maxRetries).defaultRetryDelay(defaultRetryDelay).build();
  }

  /**
   * Celery's {@code autoretry_for}, {@code retry_backoff} (0 = off, else the base factor in
   * seconds), {@code retry_backoff_max} and {@code retry_jitter}.
   */
  public TaskOptions withAutoretry(
      List<Class<? extends Throwable>> types, double backoff, double backoffMax, boolean jitter) {
    return toBuilder()
        .autoretryFor(types)
        .retryBackoff(backoff)
        .retryBackoffMax(backoffMax)
        .retryJitter(jitter)
        .build();
  }

  /**
   * {@code store_errors_even_if_ignored}, {@code acks_on_failure_or_timeout}, {@code
   * reject_on_worker_lost}.
   */
  public TaskOptions withAckPolicy(
      Boolean storeErrorsEvenIfIgnored,
      Boolean acksOnFailureOrTimeout,
      Boolean rejectOnWorkerLost) {
    return toBuilder()
        .storeErrorsEvenIfIgnored(storeErrorsEvenIfIgnored)
        .acksOnFailureOrTimeout(acksOnFailureOrTimeout)
        .rejectOnWorkerLost(rejectOnWorkerLost)
        .build();
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

  /**
   * Equal when every effective setting is equal (an unset retry limit equals Celery's default of
   * 3).
   */
  @Override
  public boolean equals(Object o) {
    if (!(o instanceof TaskOptions t)) {
      return false;
    }
    return java.util.Objects.equals(acksLate, t.acksLate)
        && java.util.Objects.equals(trackStarted, t.trackStarted)
        && java.util.Objects.equals(ignoreResult, t.ignoreResult)
        && java.util.Objects.equals(timeLimit, t.timeLimit)
        && java.util.Objects.equals(softTimeLimit, t.softTimeLimit)
        && java.util.Objects.equals(rateLimit, t.rateLimit)
        && maxRetries() == t.maxRetries()
        && defaultRetryDelay() == t.defaultRetryDelay()
        && autoretryFor.equals(t.autoretryFor)
        && retryBackoff == t.retryBackoff
        && retryBackoffMax == t.retryBackoffMax
        && retryJitter == t.retryJitter
        && java.util.Objects.equals(storeErrorsEvenIfIgnored, t.storeErrorsEvenIfIgnored)
        && java.util.Objects.equals(acksOnFailureOrTimeout, t.acksOnFailureOrTimeout)
        && java.util.Objects.equals(rejectOnWorkerLost, t.rejectOnWorkerLost);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(
        acksLate,
        trackStarted,
        ignoreResult,
        timeLimit,
        softTimeLimit,
        rateLimit,
        maxRetries(),
        defaultRetryDelay(),
        autoretryFor,
        retryBackoff,
        retryBackoffMax,
        retryJitter);
  }

  static TaskOptions of(Task t) {
    return builder()
        .acksLate(t.acksLate() ? Boolean.TRUE : null)
        .trackStarted(t.trackStarted() ? Boolean.TRUE : null)
        .ignoreResult(t.ignoreResult() ? Boolean.TRUE : null)
        .timeLimits(
            t.timeLimit() > 0 ? t.timeLimit() : null,
            t.softTimeLimit() > 0 ? t.softTimeLimit() : null)
        .rateLimit(t.rateLimit().isEmpty() ? null : t.rateLimit())
        .maxRetries(t.maxRetries())
        .defaultRetryDelay(t.defaultRetryDelay())
        .autoretryFor(List.of(t.autoretryFor()))
        .retryBackoff(t.retryBackoff())
        .retryBackoffMax(t.retryBackoffMax())
        .retryJitter(t.retryJitter())
        .storeErrorsEvenIfIgnored(t.storeErrorsEvenIfIgnored() ? Boolean.TRUE : null)
        .build();
  }
}

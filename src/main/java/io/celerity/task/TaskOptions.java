package io.celerity.task;

/**
 * Per-task options, Celery's task attributes. Null means "use the worker's setting".
 *
 * @param acksLate      {@code acks_late}
 * @param trackStarted  {@code track_started}
 * @param ignoreResult  {@code ignore_result}
 * @param timeLimit     {@code time_limit} seconds
 * @param softTimeLimit {@code soft_time_limit} seconds
 */
public record TaskOptions(Boolean acksLate, Boolean trackStarted, Boolean ignoreResult, Double timeLimit,
                          Double softTimeLimit) {

  /** No per-task options: every behaviour follows the worker's configuration. */
  public static final TaskOptions DEFAULTS = new TaskOptions(null, null, null, null, null);

  public TaskOptions withAcksLate(boolean v) {
    return new TaskOptions(v, trackStarted, ignoreResult, timeLimit, softTimeLimit);
  }

  public TaskOptions withTrackStarted(boolean v) {
    return new TaskOptions(acksLate, v, ignoreResult, timeLimit, softTimeLimit);
  }

  public TaskOptions withIgnoreResult(boolean v) {
    return new TaskOptions(acksLate, trackStarted, v, timeLimit, softTimeLimit);
  }

  public TaskOptions withTimeLimits(Double hard, Double soft) {
    return new TaskOptions(acksLate, trackStarted, ignoreResult, hard, soft);
  }

  static TaskOptions of(Task t) {
    return new TaskOptions(t.acksLate() ? Boolean.TRUE : null, t.trackStarted() ? Boolean.TRUE : null,
      t.ignoreResult() ? Boolean.TRUE : null, t.timeLimit() > 0 ? t.timeLimit() : null,
      t.softTimeLimit() > 0 ? t.softTimeLimit() : null);
  }
}

package io.celerity.task;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Thrown by {@link TaskContext#retry} (Celery's {@code celery.exceptions.Retry}): the worker
 * republishes the task with {@code retries + 1} and the given ETA, and stores state RETRY. Write
 * {@code throw ctx.retry(...)} so the compiler knows the method does not return.
 */
public final class Retry extends RuntimeException {

  private final transient Throwable reason;
  private final Instant eta;
  private final List<Object> args;
  private final Map<String, Object> kwargs;
  private final double countdown;

  public Retry(
      Throwable reason,
      Instant eta,
      double countdown,
      List<Object> args,
      Map<String, Object> kwargs) {
    super(message(reason, countdown), null, false, false);
    this.reason = reason;
    this.eta = eta;
    this.countdown = countdown;
    this.args = args;
    this.kwargs = kwargs;
  }

  private static String message(Throwable reason, double countdown) {
    String when =
        "Retry in "
            + (countdown == Math.rint(countdown)
                ? Long.toString((long) countdown)
                : Double.toString(countdown))
            + "s";
    return reason == null ? when : when + ": " + reason;
  }

  /** The exception that caused the retry, or null. */
  public Throwable reason() {
    return reason;
  }

  /** When the retried copy may run. */
  public Instant eta() {
    return eta;
  }

  public double countdown() {
    return countdown;
  }

  /** New positional arguments, or null to keep the original ones. */
  public List<Object> args() {
    return args;
  }

  /** New keyword arguments, or null to keep the original ones. */
  public Map<String, Object> kwargs() {
    return kwargs;
  }
}

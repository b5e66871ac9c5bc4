package io.celerity.types;

import io.celerity.protocol.TaskMessage;
import io.celerity.task.TaskDefinition;

/**
 * A task request ready to run (Celery's {@code worker.request.Request}): the decoded message, the
 * delivery to settle, the task it names and the behaviour resolved from message, task and worker
 * settings.
 *
 * @param message decoded message
 * @param delivery broker delivery to ack or reject
 * @param task the registered task
 * @param hostname this worker's node name
 * @param acksLate ack after running instead of at start
 * @param trackStarted store STARTED
 * @param ignoreResult do not store SUCCESS (message header or task option)
 * @param taskIgnoresResult the task itself ignores results (then failures are not stored either)
 * @param timeLimit hard limit in seconds, or null
 * @param softTimeLimit soft limit in seconds, or null
 * @param receivedNanos {@link System#nanoTime()} at receipt
 * @param acksOnFailureOrTimeout with acks_late: ack (true) or reject (false) a failed or timed-out
 *     task
 * @param rejectOnWorkerLost with acks_late: requeue instead of failing when the process running it
 *     dies
 * @param storeErrorsEvenIfIgnored store failures even when the task ignores results
 */
public record Request(
    TaskMessage message,
    Delivery delivery,
    TaskDefinition task,
    String hostname,
    boolean acksLate,
    boolean trackStarted,
    boolean ignoreResult,
    boolean taskIgnoresResult,
    Double timeLimit,
    Double softTimeLimit,
    long receivedNanos,
    boolean acksOnFailureOrTimeout,
    boolean rejectOnWorkerLost,
    boolean storeErrorsEvenIfIgnored) {

  public String id() {
    return message.id();
  }

  /** {@code examples.add[<id>]}, as Celery's log lines name a request. */
  public String logName() {
    return message.displayName() + "[" + message.id() + "]";
  }

  /** A request with Celery's defaults (early ack, no limits, failures acked); set what differs. */
  public static Builder builder(
      TaskMessage message, Delivery delivery, TaskDefinition task, String hostname) {
    return new Builder(message, delivery, task, hostname);
  }

  /** Builds a {@link Request} by name instead of fourteen positional arguments. */
  public static final class Builder {
    private final TaskMessage message;
    private final Delivery delivery;
    private final TaskDefinition task;
    private final String hostname;
    private boolean acksLate;
    private boolean trackStarted;
    private boolean ignoreResult;
    private boolean taskIgnoresResult;
    private Double timeLimit;
    private Double softTimeLimit;
    private long receivedNanos = System.nanoTime();
    private boolean acksOnFailureOrTimeout = true;
    private boolean rejectOnWorkerLost;
    private boolean storeErrorsEvenIfIgnored;

    private Builder(TaskMessage message, Delivery delivery, TaskDefinition task, String hostname) {
      this.message = message;
      this.delivery = delivery;
      this.task = task;
      this.hostname = hostname;
    }

    public Builder acksLate(boolean v) {
      acksLate = v;
      return this;
    }

    public Builder trackStarted(boolean v) {
      trackStarted = v;
      return this;
    }

    /**
     * {@code ignoreResult}: from the message or the task; {@code byTask}: the task itself ignores
     * results.
     */
    public Builder ignoreResult(boolean ignore, boolean byTask) {
      ignoreResult = ignore;
      taskIgnoresResult = byTask;
      return this;
    }

    public Builder timeLimits(Double hard, Double soft) {
      timeLimit = hard;
      softTimeLimit = soft;
      return this;
    }

    public Builder receivedNanos(long v) {
      receivedNanos = v;
      return this;
    }

    public Builder acksOnFailureOrTimeout(boolean v) {
      acksOnFailureOrTimeout = v;
      return this;
    }

    public Builder rejectOnWorkerLost(boolean v) {
      rejectOnWorkerLost = v;
      return this;
    }

    public Builder storeErrorsEvenIfIgnored(boolean v) {
      storeErrorsEvenIfIgnored = v;
      return this;
    }

    public Request build() {
      return new Request(
          message,
          delivery,
          task,
          hostname,
          acksLate,
          trackStarted,
          ignoreResult,
          taskIgnoresResult,
          timeLimit,
          softTimeLimit,
          receivedNanos,
          acksOnFailureOrTimeout,
          rejectOnWorkerLost,
          storeErrorsEvenIfIgnored);
    }
  }

  /** Requests sent together, in order (the consumer's requests of one event-loop turn). */
  public record Batch(java.util.List<Request> requests) {}
}

package io.celerity.types;

import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.TaskMessage;
import io.celerity.task.Retry;

/**
 * How a request ended, as the pool (or the consumer, for requests that never ran) reports it.
 *
 * @param request the request, or null when the message never became one (unknown task)
 * @param message the decoded message
 * @param state Celery state: SUCCESS, FAILURE, RETRY, REVOKED; REJECTED, IGNORED (child-traced
 *     only)
 * @param value return value for SUCCESS (a {@link io.celerity.protocol.PyRepr.Repr} when stored by
 *     a child); for RETRY stored by a child, Celery's {@code str(Retry)}
 * @param error exception for FAILURE/REVOKED/RETRY/REJECTED/IGNORED; for REJECTED the args are
 *     Celery's {@code Reject(reason, requeue)}
 * @param runtimeSeconds time spent running
 * @param started the request reached the pool and started (so an early ack was sent)
 * @param retry for state RETRY: when and with what to republish (null when stored by a child)
 * @param storedByChild a Python child ran the task through Celery's tracer, which already stored
 *     the state, published any retry copy and ran the canvas: the worker only logs, counts, sends
 *     events and settles the message
 * @param notStoredByChild for an outcome stored by a child: why the child's backend could not store
 *     the task's state (the backend's exception once its retries were used up), or null when it was
 *     stored; the worker then settles as for its own failed stores (requeued with acks_late)
 * @param childStores for an outcome stored by a child: the final state its tracer handed to the
 *     worker to write (Celery's key and document) instead of writing it itself; empty when none
 */
public record TaskOutcome(
    Request request,
    TaskMessage message,
    String state,
    Object value,
    ExceptionInfo error,
    double runtimeSeconds,
    boolean started,
    Retry retry,
    boolean storedByChild,
    ExceptionInfo notStoredByChild,
    java.util.List<io.celerity.backend.EncodedState> childStores) {

  public TaskOutcome {
    childStores = childStores == null ? java.util.List.of() : childStores;
  }

  /** An outcome without states handed over by a child. */
  public TaskOutcome(
      Request request,
      TaskMessage message,
      String state,
      Object value,
      ExceptionInfo error,
      double runtimeSeconds,
      boolean started,
      Retry retry,
      boolean storedByChild,
      ExceptionInfo notStoredByChild) {
    this(
        request,
        message,
        state,
        value,
        error,
        runtimeSeconds,
        started,
        retry,
        storedByChild,
        notStoredByChild,
        java.util.List.of());
  }

  /** An outcome the worker stores itself. */
  public TaskOutcome(
      Request request,
      TaskMessage message,
      String state,
      Object value,
      ExceptionInfo error,
      double runtimeSeconds,
      boolean started,
      Retry retry) {
    this(request, message, state, value, error, runtimeSeconds, started, retry, false, null);
  }

  /** An outcome of a request that ran. */
  public TaskOutcome(
      Request request,
      TaskMessage message,
      String state,
      Object value,
      ExceptionInfo error,
      double runtimeSeconds) {
    this(request, message, state, value, error, runtimeSeconds, true, null, false, null);
  }

  /** A request that never ran: revoked or expired before it started. */
  public static TaskOutcome revokedBeforeStart(Request request, String reason) {
    return new TaskOutcome(
        request,
        request.message(),
        io.celerity.protocol.States.REVOKED,
        null,
        ExceptionInfo.revoked(reason),
        0,
        false,
        null,
        false,
        null);
  }

  /**
   * FAILURE of a message the consumer could not make a running request of (an unregistered task, a
   * contained failure); there is no request, the consumer settles the delivery itself.
   */
  public static TaskOutcome failedBeforeRun(TaskMessage message, ExceptionInfo error) {
    return new TaskOutcome(null, message, io.celerity.protocol.States.FAILURE, null, error, 0);
  }

  /**
   * FAILURE of a request the pool could not take (the runner threw taking it, or no pool took it):
   * stored and settled as a failed task; {@code started} when its start was reported already.
   */
  public static TaskOutcome refused(Request request, ExceptionInfo error, boolean started) {
    return new TaskOutcome(
        request,
        request.message(),
        io.celerity.protocol.States.FAILURE,
        null,
        error,
        0,
        started,
        null);
  }

  /**
   * An outcome a child's tracer stored (or, with {@code notStored}, could not store; or handed over
   * in {@code childStores} for the worker to store).
   */
  public static TaskOutcome tracedByChild(
      Request request,
      String state,
      Object value,
      ExceptionInfo error,
      double runtimeSeconds,
      ExceptionInfo notStored,
      java.util.List<io.celerity.backend.EncodedState> childStores) {
    return new TaskOutcome(
        request,
        request.message(),
        state,
        value,
        error,
        runtimeSeconds,
        true,
        null,
        true,
        notStored,
        childStores);
  }

  /**
   * For state REJECTED: {@code Reject(reason, requeue=True)} sends the message back to its queue.
   */
  public boolean requeue() {
    return error != null && error.args().size() > 1 && Boolean.TRUE.equals(error.args().get(1));
  }

  /** Outcomes sent together, in order (the pool's outcomes of one event-loop turn). */
  public record Batch(java.util.List<TaskOutcome> outcomes) {}
}

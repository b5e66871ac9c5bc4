package io.celerity.result;

import io.celerity.consumer.Request;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.TaskMessage;
import io.celerity.task.Retry;

/**
 * How a request ended, as the pool (or the consumer, for requests that never ran) reports it.
 *
 * @param request        the request, or null when the message never became one (unknown task)
 * @param message        the decoded message
 * @param state          Celery state: SUCCESS, FAILURE, REVOKED
 * @param value          return value for SUCCESS
 * @param error          exception for FAILURE/REVOKED
 * @param runtimeSeconds time spent running
 * @param started        the request reached the pool and started (so an early ack was sent)
 * @param retry          for state RETRY: when and with what to republish
 */
public record TaskOutcome(Request request, TaskMessage message, String state, Object value, ExceptionInfo error,
                          double runtimeSeconds, boolean started, Retry retry) {

  /** An outcome of a request that ran. */
  public TaskOutcome(Request request, TaskMessage message, String state, Object value, ExceptionInfo error,
                     double runtimeSeconds) {
    this(request, message, state, value, error, runtimeSeconds, true, null);
  }

  /** A request that never ran: revoked or expired before it started. */
  public static TaskOutcome revokedBeforeStart(Request request, String reason) {
    return new TaskOutcome(request, request.message(), io.celerity.protocol.States.REVOKED, null,
      ExceptionInfo.revoked(reason), 0, false, null);
  }
}

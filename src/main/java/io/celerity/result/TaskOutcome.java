package io.celerity.result;

import io.celerity.consumer.Request;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.TaskMessage;

/**
 * How a request ended, as the pool (or the consumer, for requests that never ran) reports it.
 *
 * @param request        the request, or null when the message never became one (unknown task)
 * @param message        the decoded message
 * @param state          Celery state: SUCCESS, FAILURE, REVOKED
 * @param value          return value for SUCCESS
 * @param error          exception for FAILURE/REVOKED
 * @param runtimeSeconds time spent running
 */
public record TaskOutcome(Request request, TaskMessage message, String state, Object value, ExceptionInfo error,
                          double runtimeSeconds) {
}

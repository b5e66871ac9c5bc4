package io.celerity.backend;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One state change of a task, as a result backend stores it.
 *
 * @param taskId        task id
 * @param status        Celery state name
 * @param result        return value, STARTED info, or encoded exception
 * @param traceback     traceback text or null
 * @param children      result tuples of tasks this one sent
 * @param dateDone      completion time for ready states, else null
 * @param groupId       group id or null
 * @param parentId      parent task id or null
 * @param extended      {@code result_extended} fields (name, args, kwargs, worker, retries, queue) or null
 * @param replyTo       the message's {@code reply_to} (RPC backend)
 * @param correlationId the message's {@code correlation_id} (RPC backend)
 */
public record TaskResult(String taskId, String status, Object result, String traceback, List<Object> children,
                         Instant dateDone, String groupId, String parentId, Map<String, Object> extended,
                         String replyTo, String correlationId) {

  /** The same state change listing the tasks this one sent. */
  public TaskResult withChildren(List<Object> newChildren) {
    return new TaskResult(taskId, status, result, traceback, newChildren, dateDone, groupId, parentId, extended,
      replyTo, correlationId);
  }
}

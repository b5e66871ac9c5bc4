package io.celerity.backend;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One state change of a task, as a result backend stores it.
 *
 * @param taskId task id
 * @param status Celery state name
 * @param result return value, STARTED info, or encoded exception
 * @param traceback traceback text or null
 * @param children result tuples of tasks this one sent
 * @param dateDone completion time for ready states, else null
 * @param groupId group id or null
 * @param parentId parent task id or null
 * @param extended {@code result_extended} fields (name, args, kwargs, worker, retries, queue) or
 *     null
 * @param replyTo the message's {@code reply_to} (RPC backend)
 * @param correlationId the message's {@code correlation_id} (RPC backend)
 */
public record TaskResult(
    String taskId,
    String status,
    Object result,
    String traceback,
    List<Object> children,
    Instant dateDone,
    String groupId,
    String parentId,
    Map<String, Object> extended,
    String replyTo,
    String correlationId) {

  /**
   * A state change of {@code taskId} to {@code status}; the other fields are named as they are set.
   */
  public static Builder builder(String taskId, String status) {
    return new Builder(taskId, status);
  }

  /** Builds a {@link TaskResult}: unset fields are null, {@code children} empty. */
  public static final class Builder {
    private final String taskId;
    private final String status;
    private Object result;
    private String traceback;
    private List<Object> children = List.of();
    private Instant dateDone;
    private String groupId;
    private String parentId;
    private Map<String, Object> extended;
    private String replyTo;
    private String correlationId;

    private Builder(String taskId, String status) {
      this.taskId = taskId;
      this.status = status;
    }

    public Builder result(Object v) {
      result = v;
      return this;
    }

    public Builder traceback(String v) {
      traceback = v;
      return this;
    }

    public Builder children(List<Object> v) {
      children = v;
      return this;
    }

    public Builder dateDone(Instant v) {
      dateDone = v;
      return this;
    }

    public Builder groupId(String v) {
      groupId = v;
      return this;
    }

    public Builder parentId(String v) {
      parentId = v;
      return this;
    }

    public Builder extended(Map<String, Object> v) {
      extended = v;
      return this;
    }

    /** The message's {@code reply_to} and {@code correlation_id} (RPC backend). */
    public Builder replyTo(String replyTo, String correlationId) {
      this.replyTo = replyTo;
      this.correlationId = correlationId;
      return this;
    }

    public TaskResult build() {
      return new TaskResult(
          taskId,
          status,
          result,
          traceback,
          children,
          dateDone,
          groupId,
          parentId,
          extended,
          replyTo,
          correlationId);
    }
  }

  /** The same state change listing the tasks this one sent. */
  public TaskResult withChildren(List<Object> newChildren) {
    return new TaskResult(
        taskId,
        status,
        result,
        traceback,
        newChildren,
        dateDone,
        groupId,
        parentId,
        extended,
        replyTo,
        correlationId);
  }
}

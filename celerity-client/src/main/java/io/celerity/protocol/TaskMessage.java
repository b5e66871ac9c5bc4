package io.celerity.protocol;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A decoded Celery task message (protocol v2 model; v1 messages are converted on decode).
 *
 * @param id task id
 * @param task registered task name
 * @param args positional arguments
 * @param kwargs keyword arguments
 * @param embed {@code callbacks}, {@code errbacks}, {@code chain}, {@code chord} (values may be
 *     null)
 * @param headers every header as received (v1: synthesised), carried through untouched
 * @param eta not before this instant, or null
 * @param expires revoke after this instant, or null
 * @param retries retries done so far
 * @param hardTimeLimit per-message hard time limit in seconds, or null
 * @param softTimeLimit per-message soft time limit in seconds, or null
 * @param ignoreResult the caller asked for no stored SUCCESS
 * @param correlationId {@code correlation_id} property
 * @param replyTo {@code reply_to} property
 * @param priority {@code priority} property
 */
public record TaskMessage(
    String id,
    String task,
    List<Object> args,
    Map<String, Object> kwargs,
    Map<String, Object> embed,
    Map<String, Object> headers,
    Instant eta,
    Instant expires,
    int retries,
    Double hardTimeLimit,
    Double softTimeLimit,
    boolean ignoreResult,
    String correlationId,
    String replyTo,
    Integer priority) {

  /**
   * A message of {@code task} with id {@code id}: no arguments, headers or limits until set by
   * name.
   */
  public static Builder builder(String id, String task) {
    return new Builder(id, task);
  }

  /** Builds a {@link TaskMessage} (for producers and tests; the decoder fills every field). */
  public static final class Builder {
    private final String id;
    private final String task;
    private List<Object> args = List.of();
    private Map<String, Object> kwargs = Map.of();
    private Map<String, Object> embed = Map.of();
    private Map<String, Object> headers = Map.of();
    private Instant eta;
    private Instant expires;
    private int retries;
    private Double hardTimeLimit;
    private Double softTimeLimit;
    private boolean ignoreResult;
    private String correlationId;
    private String replyTo;
    private Integer priority;

    private Builder(String id, String task) {
      this.id = id;
      this.task = task;
    }

    public Builder args(List<Object> v) {
      args = v;
      return this;
    }

    public Builder kwargs(Map<String, Object> v) {
      kwargs = v;
      return this;
    }

    public Builder embed(Map<String, Object> v) {
      embed = v;
      return this;
    }

    public Builder headers(Map<String, Object> v) {
      headers = v;
      return this;
    }

    public Builder eta(Instant v) {
      eta = v;
      return this;
    }

    public Builder expires(Instant v) {
      expires = v;
      return this;
    }

    public Builder retries(int v) {
      retries = v;
      return this;
    }

    /** Per-message hard and soft time limits in seconds; null for none. */
    public Builder timeLimits(Double hard, Double soft) {
      hardTimeLimit = hard;
      softTimeLimit = soft;
      return this;
    }

    public Builder ignoreResult(boolean v) {
      ignoreResult = v;
      return this;
    }

    public Builder correlationId(String v) {
      correlationId = v;
      return this;
    }

    public Builder replyTo(String v) {
      replyTo = v;
      return this;
    }

    public Builder priority(Integer v) {
      priority = v;
      return this;
    }

    public TaskMessage build() {
      return new TaskMessage(
          id,
          task,
          args,
          kwargs,
          embed,
          headers,
          eta,
          expires,
          retries,
          hardTimeLimit,
          softTimeLimit,
          ignoreResult,
          correlationId,
          replyTo,
          priority);
    }
  }

  public String rootId() {
    return header("root_id");
  }

  public String parentId() {
    return header("parent_id");
  }

  public String group() {
    return header("group");
  }

  public Object groupIndex() {
    return headers.get("group_index");
  }

  /** The name to report in logs and events: {@code shadow} when set. */
  public String displayName() {
    String shadow = header("shadow");
    return shadow == null || shadow.isEmpty() ? task : shadow;
  }

  public String argsrepr() {
    return header("argsrepr");
  }

  public String kwargsrepr() {
    return header("kwargsrepr");
  }

  private String header(String name) {
    Object v = headers.get(name);
    return v == null ? null : v.toString();
  }
}

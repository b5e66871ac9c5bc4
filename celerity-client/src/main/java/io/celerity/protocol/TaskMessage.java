package io.celerity.protocol;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A decoded Celery task message (protocol v2 model; v1 messages are converted on decode).
 *
 * @param id            task id
 * @param task          registered task name
 * @param args          positional arguments
 * @param kwargs        keyword arguments
 * @param embed         {@code callbacks}, {@code errbacks}, {@code chain}, {@code chord} (values may be null)
 * @param headers       every header as received (v1: synthesised), carried through untouched
 * @param eta           not before this instant, or null
 * @param expires       revoke after this instant, or null
 * @param retries       retries done so far
 * @param hardTimeLimit per-message hard time limit in seconds, or null
 * @param softTimeLimit per-message soft time limit in seconds, or null
 * @param ignoreResult  the caller asked for no stored SUCCESS
 * @param correlationId {@code correlation_id} property
 * @param replyTo       {@code reply_to} property
 * @param priority      {@code priority} property
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

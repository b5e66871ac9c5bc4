package io.celerity.client;

import io.celerity.canvas.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Celery's execution options of {@code apply_async}/{@code send_task}, by Celery's names. A mutable
 * builder: {@code SendOptions.with().countdown(10).queue("urgent")}. Options not named here can be
 * set with {@link #option}; they end up where {@code apply_async(**options)} puts them.
 */
public final class SendOptions {

  private final Map<String, Object> options = new LinkedHashMap<>();

  public static SendOptions with() {
    return new SendOptions();
  }

  /** No options: the task goes to the client's default queue, now. */
  public static SendOptions none() {
    return new SendOptions();
  }

  /** Run no earlier than this many seconds from now ({@code countdown}). */
  public SendOptions countdown(double seconds) {
    return option("countdown", seconds);
  }

  /** Run no earlier than {@code eta}. */
  public SendOptions eta(Instant eta) {
    return option("eta", eta);
  }

  /** Revoke the task if it has not started this many seconds from now ({@code expires}). */
  public SendOptions expires(double seconds) {
    return option("expires", seconds);
  }

  public SendOptions expires(Instant at) {
    return option("expires", at);
  }

  public SendOptions expires(Duration in) {
    return option("expires", in.toNanos() / 1e9);
  }

  /** Target queue (through the default exchange, routing key = queue name). */
  public SendOptions queue(String queue) {
    return option("queue", queue);
  }

  /** Publish to {@code exchange} with {@code routing_key} instead of the default exchange. */
  public SendOptions exchange(String exchange) {
    return option("exchange", exchange);
  }

  public SendOptions routingKey(String routingKey) {
    return option("routing_key", routingKey);
  }

  /** Message priority, 0-9 on Redis, 0-255 with {@code x-max-priority} queues on RabbitMQ. */
  public SendOptions priority(int priority) {
    return option("priority", priority);
  }

  /** Custom message headers, readable in the task as {@code self.request.<name>}. */
  public SendOptions headers(Map<String, ?> headers) {
    return option("headers", new LinkedHashMap<>(headers));
  }

  /** The task id to use instead of a new random one. */
  public SendOptions taskId(String id) {
    return option("task_id", id);
  }

  /** A callback sent with this task's result after it succeeds (repeatable). */
  public SendOptions link(Signature callback) {
    return append("link", callback);
  }

  /** An errback sent with this task's id if it fails (repeatable). */
  public SendOptions linkError(Signature errback) {
    return append("link_error", errback);
  }

  /** The worker stores no SUCCESS result ({@code ignore_result}). */
  public SendOptions ignoreResult(boolean ignore) {
    return option("ignore_result", ignore);
  }

  /** Hard time limit in seconds for this call. */
  public SendOptions timeLimit(double seconds) {
    return option("time_limit", number(seconds));
  }

  public SendOptions softTimeLimit(double seconds) {
    return option("soft_time_limit", number(seconds));
  }

  /** Whole seconds go on the wire as integers, as {@code time_limit=60} does from Python. */
  private static Object number(double seconds) {
    return seconds == Math.rint(seconds) && Math.abs(seconds) < 1e15
        ? (Object) (long) seconds
        : seconds;
  }

  /** The name to show in logs and monitors ({@code shadow}). */
  public SendOptions shadow(String name) {
    return option("shadow", name);
  }

  /** Any other execution option, by its Celery name. */
  public SendOptions option(String name, Object value) {
    options.put(name, value);
    return this;
  }

  private SendOptions append(String key, Signature s) {
    List<Object> l = new ArrayList<>();
    if (options.get(key) instanceof List<?> cur) {
      l.addAll(cur);
    }
    l.add(s.toMap());
    return option(key, l);
  }

  public boolean ignoreResult() {
    return Boolean.TRUE.equals(options.get("ignore_result"));
  }

  /** The options by Celery's names (a copy). */
  public Map<String, Object> toMap() {
    return new LinkedHashMap<>(options);
  }
}

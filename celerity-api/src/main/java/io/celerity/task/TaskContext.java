package io.celerity.task;

import com.fasterxml.jackson.databind.JavaType;
import io.celerity.protocol.Json;
import java.util.List;
import java.util.Map;

/**
 * What a running task sees of its request: Celery's {@code self.request}, plus typed access to the
 * arguments and the soft time limit flag.
 */
public interface TaskContext {

  String id();

  String taskName();

  int retries();

  List<Object> args();

  Map<String, Object> kwargs();

  String rootId();

  String parentId();

  String group();

  /** The worker's node name, e.g. {@code celery@host}. */
  String hostname();

  /** All message headers, including custom ones from {@code apply_async(headers=...)}. */
  Map<String, Object> headers();

  /**
   * {@code self.request.delivery_info}: {@code exchange}, {@code routing_key}, {@code priority},
   * {@code redelivered} of the delivery. Empty where the worker does not know them.
   */
  default Map<String, Object> deliveryInfo() {
    return Map.of();
  }

  /**
   * {@code self.request.properties}: the message properties {@code correlation_id}, {@code
   * reply_to}, {@code priority}, {@code content_type}, {@code content_encoding}. Empty where not
   * known.
   */
  default Map<String, Object> properties() {
    return Map.of();
  }

  /**
   * The message body's embed: {@code callbacks}, {@code errbacks}, {@code chain}, {@code chord}
   * (values may be null).
   */
  default Map<String, Object> embed() {
    return Map.of();
  }

  /** {@code self.request.reply_to}. */
  default String replyTo() {
    return (String) properties().get("reply_to");
  }

  /** {@code self.request.correlation_id}. */
  default String correlationId() {
    Object c = properties().get("correlation_id");
    return c != null ? c.toString() : id();
  }

  /** {@code self.request.origin}: node name of the sender ({@code gen<pid>@<host>} for clients). */
  default String origin() {
    Object o = headers().get("origin");
    return o == null ? null : o.toString();
  }

  /** {@code self.request.timelimit}: {@code [hard, soft]} from the message, either may be null. */
  default List<Object> timelimit() {
    Object t = headers().get("timelimit");
    return t instanceof List<?> l
        ? java.util.Collections.unmodifiableList(new java.util.ArrayList<>(l))
        : java.util.Arrays.asList(null, null);
  }

  /** {@code self.request.callbacks}: link signatures as dicts, or null. */
  @SuppressWarnings("unchecked")
  default List<Object> callbacks() {
    return embed().get("callbacks") instanceof List<?> l ? (List<Object>) l : null;
  }

  /** {@code self.request.errbacks}: link_error signatures as dicts, or null. */
  @SuppressWarnings("unchecked")
  default List<Object> errbacks() {
    return embed().get("errbacks") instanceof List<?> l ? (List<Object>) l : null;
  }

  /** {@code self.request.chain}: the remaining chain steps as dicts, next step last; or null. */
  @SuppressWarnings("unchecked")
  default List<Object> chain() {
    return embed().get("chain") instanceof List<?> l ? (List<Object>) l : null;
  }

  /**
   * {@code self.request.chord}: the chord body as a dict when this task is a chord header member,
   * else null.
   */
  @SuppressWarnings("unchecked")
  default Map<String, Object> chord() {
    return embed().get("chord") instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
  }

  /** {@code self.request.group_index}: position in its group or chord header, or null. */
  default Integer groupIndex() {
    return headers().get("group_index") instanceof Number n ? n.intValue() : null;
  }

  /** {@code self.request.eta}: the ISO-8601 text from the message, or null. */
  default String eta() {
    Object e = headers().get("eta");
    return e == null ? null : e.toString();
  }

  /** {@code self.request.expires}: the ISO-8601 text from the message, or null. */
  default String expires() {
    Object e = headers().get("expires");
    return e == null ? null : e.toString();
  }

  /** {@code self.request.is_eager}: always false, a worker never runs tasks eagerly. */
  default boolean isEager() {
    return false;
  }

  /**
   * True once the soft time limit passed. The task thread is also interrupted at that moment, so
   * blocking calls end with {@link InterruptedException}; either is the task's cue to wrap up
   * (Celery's {@code SoftTimeLimitExceeded}). Async tasks are not interrupted: see {@link
   * #cancelled()}.
   */
  boolean softTimeLimitExceeded();

  /**
   * Completes, with the reason, when the worker asks the task to stop: {@code
   * "SoftTimeLimitExceeded"} at the soft time limit, {@code "TimeLimitExceeded"} at the hard one
   * (the task has then already been marked failed), {@code "terminated"} on {@code
   * revoke(terminate=True)}. This is how an async task sees cancellation: stop the work it waits on
   * (close the request, cancel the query) and end its future; a future failed with {@link
   * java.util.concurrent.CancellationException} after the soft time limit is reported as Celery's
   * {@code SoftTimeLimitExceeded}. Never completes for a task that is left alone.
   */
  default java.util.concurrent.CompletionStage<String> cancelled() {
    return new java.util.concurrent.CompletableFuture<>();
  }

  /**
   * An object the worker offers to the task, by type; this interface names none of the worker's own
   * types, so task code depends only on the task API. The worker offers {@code io.vertx.core.Vertx}
   * (the worker's Vert.x, for its clients: {@code ctx.unwrap(Vertx.class)}) to every task, and
   * {@code io.vertx.core.Context} (the event-loop context an async task runs on) to async tasks.
   *
   * @throws IllegalArgumentException when the worker offers nothing of that type to this task
   */
  default <T> T unwrap(Class<T> type) {
    throw new IllegalArgumentException("this task context offers no " + type.getName());
  }

  /**
   * Retries the task, like Celery's {@code self.retry}: use as {@code throw ctx.retry(exc, 5.0,
   * null)}. When the task already used up its retries this throws {@code exc} itself (or Celery's
   * {@code MaxRetriesExceededError} when {@code exc} is null) instead, failing the task.
   *
   * @param exc the reason, stored with state RETRY; may be null
   * @param countdown seconds until the retry runs; null for the task's {@code default_retry_delay}
   * @param maxRetries overrides the task's {@code max_retries}; null keeps it
   * @param args new positional arguments, or null to keep the current ones
   * @param kwargs new keyword arguments, or null to keep the current ones
   */
  Retry retry(
      Throwable exc,
      Double countdown,
      Integer maxRetries,
      List<Object> args,
      Map<String, Object> kwargs);

  /** {@link #retry(Throwable, Double, Integer, List, Map)} with the current arguments. */
  default Retry retry(Throwable exc, Double countdown, Integer maxRetries) {
    return retry(exc, countdown, maxRetries, null, null);
  }

  /** Retries after the task's {@code default_retry_delay}. */
  default Retry retry() {
    return retry(null, null, null, null, null);
  }

  /**
   * Replaces this task with {@code sig}, like Celery's {@code self.replace}: use as {@code throw
   * ctx.replace(sig)}. The replacement gets this task's id, its callbacks and errbacks (a group is
   * first turned into a chord with {@code celery.accumulate}), its chord, group and group_index,
   * its root_id, and the rest of its chain after it. This task stores no result and its message is
   * acknowledged; the replacement's result is stored under the same id.
   *
   * @throws TaskError {@code ImproperlyConfigured} when {@code sig} is part of a chord or is an
   *     empty chain
   */
  default Replace replace(io.celerity.canvas.Signature sig) {
    if (sig.options().containsKey("chord")) {
      throw new TaskError(
          "celery.exceptions",
          "ImproperlyConfigured",
          "A signature replacing a task must not be part of a chord");
    }
    if (sig.isChain() && sig.tasks().isEmpty()) {
      throw new TaskError(
          "celery.exceptions", "ImproperlyConfigured", "Cannot replace with an empty chain");
    }
    throw new Replace(sig.toMap());
  }

  /**
   * Celery's {@code sig.apply_async(**options)} inside a task: sends a task, chain, group or chord
   * with the worker's connection, as a child of this task ({@code parent_id} = this task's id,
   * {@code root_id} = its root), and returns once the broker has it. Options are Celery's ({@code
   * countdown}, {@code eta}, {@code expires}, {@code queue}, {@code priority}, {@code task_id},
   * {@code link}, ...). Do not wait for the subtask's result inside the task (Celery forbids it
   * too): chain a callback, or {@link #replace} the task.
   *
   * @return the id of the result the signature produces: the task's, a chain's last step's, a
   *     group's id, a chord body's
   * @throws UnsupportedOperationException where the pool cannot send ({@code -P process} with Java
   *     children)
   * @throws IllegalStateException when the broker did not take the messages, or on an event-loop
   *     thread (an async task's body): there, use {@link #applyAsyncStage}
   */
  default String applyAsync(io.celerity.canvas.Signature sig, Map<String, Object> options) {
    throw new UnsupportedOperationException(
        "this pool cannot send subtasks from a task (use -P threads, solo or virtual)");
  }

  /** Celery's {@code sig.delay()} inside a task: {@link #applyAsync} without options. */
  default String delay(io.celerity.canvas.Signature sig) {
    return applyAsync(sig, Map.of());
  }

  /**
   * Celery's {@code app.send_task(name, args, kwargs, **options)} inside a task; returns the new
   * task's id.
   */
  default String send(
      String task, List<?> args, Map<String, ?> kwargs, Map<String, Object> options) {
    io.celerity.canvas.Signature sig =
        io.celerity.canvas.Signature.of(task, args == null ? new Object[0] : args.toArray());
    return applyAsync(
        kwargs == null || kwargs.isEmpty() ? sig : sig.withKwargs(kwargs),
        options == null ? Map.of() : options);
  }

  /**
   * {@link #applyAsync} without blocking, for async tasks (a thread-pool task may use it too):
   * sends {@code sig} as a child of this task, as {@code applyAsync} does, and returns at once. The
   * stage completes with the id of the result the signature produces once the broker has the
   * messages, or fails with {@link IllegalStateException} when it did not take them; a signature
   * that cannot be built fails it as well. An async task's result is reported only once every send
   * it started has ended, so what it sent is listed in its {@code children} even when it did not
   * wait; a send that failed unobserved does not fail the task.
   */
  default java.util.concurrent.CompletionStage<String> applyAsyncStage(
      io.celerity.canvas.Signature sig, Map<String, Object> options) {
    return java.util.concurrent.CompletableFuture.failedFuture(
        new UnsupportedOperationException(
            "this pool cannot send subtasks from a task (use -P threads, solo or virtual)"));
  }

  /** {@link #delay} without blocking: {@link #applyAsyncStage} without options. */
  default java.util.concurrent.CompletionStage<String> delayStage(
      io.celerity.canvas.Signature sig) {
    return applyAsyncStage(sig, Map.of());
  }

  /**
   * {@link #send} without blocking: the stage of the new task's id (see {@link #applyAsyncStage}).
   */
  default java.util.concurrent.CompletionStage<String> sendStage(
      String task, List<?> args, Map<String, ?> kwargs, Map<String, Object> options) {
    io.celerity.canvas.Signature sig =
        io.celerity.canvas.Signature.of(task, args == null ? new Object[0] : args.toArray());
    return applyAsyncStage(
        kwargs == null || kwargs.isEmpty() ? sig : sig.withKwargs(kwargs),
        options == null ? Map.of() : options);
  }

  /** Positional argument {@code index} converted to {@code type}. */
  default <T> T arg(int index, Class<T> type) {
    List<Object> a = args();
    if (index >= a.size()) {
      throw TaskError.typeError(taskName() + "() missing positional argument " + index);
    }
    return Json.MAPPER.convertValue(a.get(index), type);
  }

  /** Keyword argument {@code name} converted to {@code type}, or null when absent. */
  default <T> T kwarg(String name, Class<T> type) {
    Object v = kwargs().get(name);
    return v == null ? null : Json.MAPPER.convertValue(v, type);
  }

  /** Positional argument {@code index} or, when there are fewer, keyword {@code name}. */
  default <T> T param(int index, String name, Class<T> type) {
    if (index < args().size()) {
      return arg(index, type);
    }
    if (kwargs().containsKey(name)) {
      return kwarg(name, type);
    }
    throw TaskError.typeError(taskName() + "() missing required argument: '" + name + "'");
  }

  /** Converts a value with the task JSON mapper, e.g. to a generic type. */
  static Object convert(Object value, JavaType type) {
    return Json.MAPPER.convertValue(value, type);
  }
}

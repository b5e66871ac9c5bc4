package io.celerity.pool;

import io.celerity.task.Retry;
import io.celerity.task.TaskContext;
import io.celerity.types.Request;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/** A request while it runs in the pool: its thread, its limits, whether it has been reported. */
public final class Job implements TaskContext {

  final Request request;
  final AtomicBoolean finished = new AtomicBoolean();

  /**
   * Taken by whoever gets to the job first: the runner starting it, or the pool cancelling it while
   * it waits.
   */
  private final AtomicBoolean claimed = new AtomicBoolean();

  volatile Thread thread;

  /** Given up at its hard time limit while its body still holds a pool thread. */
  boolean abandoned;

  /**
   * Abandoned with a thread added in its place (within the cap); the thread goes when the body
   * returns.
   */
  boolean replaced;

  /**
   * Abandoned over the cap of abandoned threads: no thread was added, so its slot stays taken until
   * the body returns. Set by the runner on the event loop, inside {@link Runner#hardLimit}.
   */
  boolean holdsSlot;

  volatile boolean softLimitExceeded;
  volatile long startNanos;

  /**
   * The task's trace span (io.celerity.tracing.TaskTracing), null while tracing is off; set by
   * whoever starts the body.
   */
  volatile io.opentelemetry.api.trace.Span span;

  long softTimer = -1;
  long hardTimer = -1;

  /** The worker's Vert.x, offered to the task by {@link #unwrap}. */
  volatile io.vertx.core.Vertx vertx;

  /** The event-loop context an async task runs on (null for other tasks). */
  volatile io.vertx.core.Context context;

  /** What an async body returned, once it returned. */
  volatile java.util.concurrent.CompletionStage<?> stage;

  /** An async body's future ended (guarded by the job's lock, with {@link #abandoned}). */
  boolean bodyEnded;

  /**
   * The body returned a CompletableFuture of its own: cancelled at the hard limit and on terminate.
   */
  volatile boolean cancellable;

  /**
   * Completed with the reason when the worker asks the task to stop ({@link
   * TaskContext#cancelled()}).
   */
  final java.util.concurrent.CompletableFuture<String> cancellation =
      new java.util.concurrent.CompletableFuture<>();

  /** Sends started with {@link #applyAsyncStage} not yet ended (guarded by the job's lock). */
  private java.util.List<java.util.concurrent.CompletableFuture<String>> sending;

  /** Sends the task's subtasks; null where the pool has no sender (tests). */
  private final SubtaskSender subtasks;

  Job(Request request) {
    this(request, null);
  }

  Job(Request request, SubtaskSender subtasks) {
    this.request = request;
    this.subtasks = subtasks;
  }

  /**
   * Its {@code expires} has passed: it must not start (checked again whenever it reaches a free
   * slot).
   */
  public boolean expired() {
    java.time.Instant expires = request.message().expires();
    return expires != null && !expires.isAfter(java.time.Instant.now());
  }

  /** True for exactly one caller: the job is now theirs to start or to cancel. */
  public boolean claim() {
    return claimed.compareAndSet(false, true);
  }

  /** A runner with a lookahead starts the body now: its runtime and time limits count from here. */
  public void startsNow() {
    startNanos = System.nanoTime();
  }

  public Request request() {
    return request;
  }

  @Override
  public String id() {
    return request.message().id();
  }

  @Override
  public String taskName() {
    return request.message().task();
  }

  @Override
  public int retries() {
    return request.message().retries();
  }

  @Override
  public List<Object> args() {
    return request.message().args();
  }

  @Override
  public Map<String, Object> kwargs() {
    return request.message().kwargs();
  }

  @Override
  public String rootId() {
    return request.message().rootId();
  }

  @Override
  public String parentId() {
    return request.message().parentId();
  }

  @Override
  public String group() {
    return request.message().group();
  }

  @Override
  public String hostname() {
    return request.hostname();
  }

  @Override
  public Map<String, Object> headers() {
    return request.message().headers();
  }

  @Override
  public Map<String, Object> embed() {
    return request.message().embed();
  }

  @Override
  public Map<String, Object> deliveryInfo() {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("exchange", request.delivery().exchange());
    info.put("routing_key", request.delivery().routingKey());
    info.put("priority", request.delivery().priority());
    info.put("redelivered", request.delivery().redelivered());
    return info;
  }

  @Override
  public Map<String, Object> properties() {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("correlation_id", request.message().correlationId());
    p.put("reply_to", request.message().replyTo());
    p.put("priority", request.delivery().priority());
    p.put("content_type", request.delivery().contentType());
    p.put("content_encoding", request.delivery().contentEncoding());
    return p;
  }

  @Override
  public java.util.concurrent.CompletionStage<String> cancelled() {
    return cancellation.minimalCompletionStage();
  }

  @Override
  public <T> T unwrap(Class<T> type) {
    if (type == io.vertx.core.Vertx.class && vertx != null) {
      return type.cast(vertx);
    }
    if (type == io.vertx.core.Context.class && context != null) {
      return type.cast(context);
    }
    return TaskContext.super.unwrap(type);
  }

  @Override
  public boolean softTimeLimitExceeded() {
    return softLimitExceeded;
  }

  @Override
  public String applyAsync(io.celerity.canvas.Signature sig, Map<String, Object> options) {
    if (subtasks == null) {
      return TaskContext.super.applyAsync(sig, options);
    }
    return subtasks.apply(this, sig, options);
  }

  @Override
  public java.util.concurrent.CompletionStage<String> applyAsyncStage(
      io.celerity.canvas.Signature sig, Map<String, Object> options) {
    if (subtasks == null) {
      return TaskContext.super.applyAsyncStage(sig, options);
    }
    java.util.concurrent.CompletableFuture<String> sent = subtasks.send(this, sig, options);
    synchronized (this) {
      if (!sent.isDone()) {
        if (sending == null) {
          sending = new java.util.ArrayList<>(2);
        }
        sending.add(sent);
      }
    }
    return sent.minimalCompletionStage();
  }

  /**
   * Completes once every send started with {@link #applyAsyncStage} so far has ended (either way):
   * the result is reported after them, so the trail of what the task sent is complete.
   */
  java.util.concurrent.CompletableFuture<Void> sendsEnded() {
    java.util.concurrent.CompletableFuture<?>[] pending;
    synchronized (this) {
      if (sending == null || sending.isEmpty()) {
        return null;
      }
      pending = sending.toArray(new java.util.concurrent.CompletableFuture<?>[0]);
      sending.clear();
    }
    return java.util.concurrent.CompletableFuture.allOf(pending)
        .handle((v, e) -> (Void) null)
        .thenCompose(
            v -> {
              java.util.concurrent.CompletableFuture<Void> more = sendsEnded();
              return more == null
                  ? java.util.concurrent.CompletableFuture.completedFuture(null)
                  : more;
            });
  }

  @Override
  public Retry retry(
      Throwable exc,
      Double countdown,
      Integer maxRetries,
      List<Object> args,
      Map<String, Object> kwargs) {
    throw Retries.retry(this, request.task().options(), exc, countdown, maxRetries, args, kwargs);
  }
}

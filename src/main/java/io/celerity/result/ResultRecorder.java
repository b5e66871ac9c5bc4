package io.celerity.result;

import io.celerity.backend.ResultBackend;
import io.celerity.backend.TaskResult;
import io.celerity.consumer.Request;
import io.celerity.consumer.Settle;
import io.celerity.protocol.PyRepr;
import io.celerity.protocol.States;
import io.celerity.protocol.TaskMessage;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Celery's trace bookkeeping after a task ran: which state to store (and when not to), the log
 * line, and when to settle the delivery. Event-loop confined.
 */
public class ResultRecorder {

  private static final Logger log = LoggerFactory.getLogger("celery.app.trace");
  private static final long PID = ProcessHandle.current().pid();

  private final ResultBackend backend;
  private final Consumer<Settle> settle;
  private final boolean resultExtended;
  private final String hostname;
  /** STARTED writes in flight, so the final state is never overtaken by its own STARTED. */
  private final Map<String, Future<Void>> startedWrites = new HashMap<>();
  private long succeeded;
  private long failed;
  private long pendingWrites;

  public ResultRecorder(ResultBackend backend, Consumer<Settle> settle, boolean resultExtended, String hostname) {
    this.backend = backend;
    this.settle = settle;
    this.resultExtended = resultExtended;
    this.hostname = hostname;
  }

  public void started(Request r) {
    if (!r.acksLate()) {
      settle.accept(Settle.ack(r.delivery()));
    }
    // Celery checks only the task's own ignore_result here, not the per-call header.
    if (r.trackStarted() && !r.taskIgnoresResult() && backend.enabled()) {
      Map<String, Object> info = new LinkedHashMap<>();
      info.put("pid", PID);
      info.put("hostname", r.hostname());
      Future<Void> w = write(document(r.message(), r, States.STARTED, info, null, null));
      startedWrites.put(r.id(), w);
      w.onComplete(ar -> startedWrites.remove(r.id(), w));
    }
  }

  public void finished(TaskOutcome o) {
    if (States.RETRY.equals(o.state())) {
      retried(o);
      return;
    }
    Request r = o.request();
    TaskMessage msg = o.message();
    boolean success = States.SUCCESS.equals(o.state());
    logOutcome(o);
    if (success) {
      succeeded++;
    } else {
      failed++;
    }
    boolean store = backend.enabled() && (success ? r == null || !r.ignoreResult() : r == null || !r.taskIgnoresResult());
    Future<Void> prior = r == null ? null : startedWrites.get(r.id());
    Future<Void> written;
    if (store) {
      TaskResult doc = document(msg, r, o.state(), success ? o.value() : o.error().toResult(),
        success ? null : o.error().traceback(), Instant.now());
      written = prior == null ? write(doc) : prior.eventually(() -> write(doc));
    } else {
      written = Future.succeededFuture();
    }
    if (r != null && r.acksLate()) {
      // acks_late: the message is settled only once its result is stored.
      written.onComplete(ar -> settle.accept(Settle.ack(r.delivery())));
    }
  }

  /**
   * Celery's handle_retry, after the copy was published: store RETRY (children = the copy itself),
   * then settle the original as usual.
   */
  private void retried(TaskOutcome o) {
    Request r = o.request();
    TaskMessage msg = o.message();
    log.info("Task {}[{}] retry: Retry: {}", msg.displayName(), msg.id(), o.error().repr());
    Future<Void> written = Future.succeededFuture();
    if (backend.enabled() && !r.taskIgnoresResult()) {
      List<Object> copy = java.util.Arrays.asList(java.util.Arrays.asList(msg.id(), null), null);
      TaskResult doc = document(msg, r, States.RETRY, o.error().toResult(), o.error().traceback(), null);
      doc = new TaskResult(doc.taskId(), doc.status(), doc.result(), doc.traceback(), List.of(copy), null,
        doc.groupId(), doc.parentId(), doc.extended(), doc.replyTo(), doc.correlationId());
      Future<Void> prior = startedWrites.get(r.id());
      TaskResult retryDoc = doc;
      written = prior == null ? write(retryDoc) : prior.eventually(() -> write(retryDoc));
    }
    if (r.acksLate()) {
      written.onComplete(ar -> settle.accept(Settle.ack(r.delivery())));
    }
  }

  private void logOutcome(TaskOutcome o) {
    String name = o.message().displayName() + "[" + o.message().id() + "]";
    if (States.SUCCESS.equals(o.state())) {
      if (log.isInfoEnabled()) {
        log.info("Task {} succeeded in {}s: {}", name, String.format("%.6f", o.runtimeSeconds()), PyRepr.of(o.value()));
      }
    } else if (o.request() != null) {
      String tb = o.error().traceback();
      log.error("Task {} raised unexpected: {}{}", name, o.error().repr(), tb == null ? "" : "\n" + tb);
    }
  }

  private Future<Void> write(TaskResult doc) {
    pendingWrites++;
    return backend.store(doc)
      .onFailure(err -> log.error("Failed to store result of task {} ({}): {}", doc.taskId(), doc.status(), err.getMessage()))
      .onComplete(ar -> pendingWrites--);
  }

  private TaskResult document(TaskMessage msg, Request r, String status, Object result, String traceback, Instant done) {
    Map<String, Object> extended = null;
    if (resultExtended) {
      extended = new LinkedHashMap<>();
      extended.put("name", r == null ? null : msg.task());
      extended.put("args", r == null ? null : msg.args());
      extended.put("kwargs", r == null ? null : msg.kwargs());
      extended.put("worker", r == null ? null : hostname);
      extended.put("retries", r == null ? null : msg.retries());
      extended.put("queue", r == null ? null : r.delivery().routingKey());
    }
    return new TaskResult(msg.id(), status, result, traceback, List.of(), done, msg.group(), msg.parentId(), extended,
      msg.replyTo(), msg.correlationId());
  }

  public long succeeded() {
    return succeeded;
  }

  public long failed() {
    return failed;
  }

  public long pendingWrites() {
    return pendingWrites;
  }
}

package io.celerity.result;

import io.celerity.backend.ResultBackend;
import io.celerity.backend.TaskResult;
import io.celerity.canvas.CanvasDuties;
import io.celerity.canvas.CanvasResult;
import io.celerity.canvas.Signature;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.PyRepr;
import io.celerity.protocol.States;
import io.celerity.protocol.TaskMessage;
import io.celerity.protocol.TaskMessages;
import io.celerity.task.Retry;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.Request;
import io.celerity.types.Settle;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Celery's trace bookkeeping after a task ran: which state to store (and when not to), the log
 * line, and when to settle the delivery. Event-loop confined.
 */
public class ResultRecorder {

  private static final Logger log = LoggerFactory.getLogger("celery.app.trace");
  private static final long PID = ProcessHandle.current().pid();

  private final ResultBackend backend;
  private final Consumer<Settle> settle;
  private final Function<OutgoingMessage, Future<Void>> publisher;
  private final boolean resultExtended;
  private final String hostname;

  /** STARTED writes in flight, so the final state is never overtaken by its own STARTED. */
  private final Map<String, Future<Void>> startedWrites = new HashMap<>();

  /** Links, chains, errbacks and chords (docs/wire-protocol.md §5). */
  private final CanvasDuties canvas;

  /**
   * Result tuples of what running tasks sent ({@code ctx.applyAsync}), by task id: Celery's {@code
   * request.children} ({@code add_trail}), stored with the task's state. Bounded: an entry whose
   * task never reports is dropped eventually.
   */
  private final Map<String, java.util.List<Object>> trails =
      new java.util.LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, java.util.List<Object>> eldest) {
          return size() > 10_000;
        }
      };

  private long succeeded;
  private long failed;
  private long retried;
  private long revoked;
  private long pendingWrites;

  /** Completed when no write is pending (warm shutdown waits on them instead of polling). */
  private final java.util.List<io.vertx.core.Promise<Void>> idleWaiters =
      new java.util.ArrayList<>();

  /** Final states that could not be stored (after the backend's retries). */
  private long resultsLost;

  public ResultRecorder(
      ResultBackend backend,
      Consumer<Settle> settle,
      Function<OutgoingMessage, Future<Void>> publisher,
      boolean resultExtended,
      String hostname) {
    this(backend, settle, publisher, resultExtended, hostname, "celery");
  }

  /**
   * @param defaultQueue {@code task_default_queue}, where canvas messages without a queue go
   */
  public ResultRecorder(
      ResultBackend backend,
      Consumer<Settle> settle,
      Function<OutgoingMessage, Future<Void>> publisher,
      boolean resultExtended,
      String hostname,
      String defaultQueue) {
    this.backend = backend;
    this.settle = settle;
    this.publisher = publisher;
    this.resultExtended = resultExtended;
    this.hostname = hostname;
    int at = hostname == null ? -1 : hostname.indexOf('@');
    this.canvas =
        new CanvasDuties(
            backend,
            publisher,
            this::write,
            "gen" + PID + "@" + (at < 0 ? String.valueOf(hostname) : hostname.substring(at + 1)),
            defaultQueue);
  }

  /** A request started (its early ack, if any, was sent by the pool-dispatcher). */
  public void started(Request r) {
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

  /**
   * Records an outcome; the future completes once it is stored and its message settled (acks_late).
   */
  public Future<Void> finished(TaskOutcome o) {
    Request r = o.request();
    if (o.storedByChild()) {
      return tracedByChild(o);
    }
    Signature replacement = r != null && States.FAILURE.equals(o.state()) ? replacementOf(o) : null;
    if (replacement != null) {
      return replaced(o, replacement);
    }
    logOutcome(o);
    switch (o.state()) {
      case States.SUCCESS -> succeeded++;
      case States.RETRY -> retried++;
      case States.REVOKED -> revoked++;
      default -> failed++;
    }
    if (States.RETRY.equals(o.state())) {
      retry(o);
      return Future.succeededFuture();
    }
    if (r != null) {
      // acks_late (and requests that never started): the message is settled once the result is
      // stored.
      // Celery runs no canvas for a message naming an unknown task, hence only here.
      pendingWrites++;
      return withCanvas(o)
          .transform(
              ar -> {
                writeDone();
                if (ar.succeeded()) {
                  settleAfter(o);
                } else {
                  notStored(o, ar.cause().getMessage());
                }
                return Future.succeededFuture();
              });
    }
    if (store(o)) {
      afterStarted(
          null,
          document(o, Instant.now())); // unknown task: nothing to settle, the consumer rejected it
    }
    return Future.succeededFuture();
  }

  /**
   * Celery's Request.on_success / on_failure(return_ok=True) in the main process: the child's
   * tracer already stored the state, published the retry copy and applied the canvas, so the worker
   * only counts, logs and settles. With acks_late: Reject -> reject (requeue as asked), Ignore ->
   * ack, failure -> ack or reject per acks_on_failure_or_timeout, anything else -> ack. A state the
   * child's backend could not store (unreachable after its retries) is settled as the worker's own
   * failed stores are: requeued with acks_late, else logged; counted in results_lost either way.
   * The final state the tracer handed over ({@code childStores}) is written first, in order, and
   * the message settled once it is stored, as for the worker's own results.
   */
  private Future<Void> tracedByChild(TaskOutcome o) {
    Request r = o.request();
    String name = o.message().displayName() + "[" + o.message().id() + "]";
    Settle settleAs = Settle.ack(r.delivery());
    switch (o.state()) {
      case States.SUCCESS -> {
        succeeded++;
        logOutcome(o);
      }
      case States.RETRY -> {
        retried++;
        log.info("Task {} retry: {}", name, o.value());
      }
      case States.REJECTED -> {
        log.info("Task {} {}", name, o.error().repr());
        settleAs = o.requeue() ? Settle.requeue(r.delivery()) : Settle.reject(r.delivery());
      }
      case States.IGNORED -> log.info("Task {} {}", name, o.error().repr());
      default -> {
        failed++;
        logOutcome(o);
        if (!r.acksOnFailureOrTimeout()) {
          settleAs = Settle.reject(r.delivery());
        }
      }
    }
    if (o.notStoredByChild() != null) {
      childNotStored(o);
      return Future.succeededFuture();
    }
    if (o.childStores().isEmpty()) {
      if (r.acksLate()) {
        settle.accept(settleAs);
      }
      return Future.succeededFuture();
    }
    Settle settleStored = settleAs;
    pendingWrites++;
    Future<Void> stored = Future.succeededFuture();
    for (io.celerity.backend.EncodedState state : o.childStores()) {
      stored = stored.compose(v -> backend.storeEncoded(state));
    }
    return stored.transform(
        ar -> {
          writeDone();
          if (ar.failed()) {
            notStored(o, ar.cause().getMessage());
          } else if (r.acksLate()) {
            settle.accept(settleStored);
          }
          return Future.succeededFuture();
        });
  }

  /**
   * The child's backend gave up on the task's state (Celery 5.2's Redis backend fails at once on a
   * refused connection: its GET before the SET is not retried). With acks_late the requeue waits
   * until the worker's backend answers again or its write retry policy is used up, as a Java task's
   * write would, so that a redelivery does not run the task again and again while the backend is
   * away.
   */
  private void childNotStored(TaskOutcome o) {
    String why = o.notStoredByChild().repr();
    if (!o.request().acksLate()) {
      notStored(o, why);
      return;
    }
    resultsLost++;
    log.error(
        "Result of task {} ({}) could not be stored by its child: {}; the message is requeued (acks_late) once "
            + "the result backend answers",
        o.request().logName(),
        o.state(),
        why);
    pendingWrites++;
    backend
        .awaitReachable()
        .onComplete(
            ar -> {
              writeDone();
              settle.accept(Settle.requeue(o.request().delivery()));
            });
  }

  /**
   * Stores the outcome in Celery's order around the canvas: after success the callbacks and next
   * chain step are sent first (and listed as children), then SUCCESS stored, then the chord
   * bookkeeping; after failure or revocation the state is stored first. A canvas that cannot be
   * applied (malformed, or the broker refused it) turns the success into a FAILURE. Fails only when
   * the final state could not be stored (the backend's retries used up); the chord bookkeeping and
   * errbacks are then skipped, as in Celery, where the raising store comes before them.
   */
  private Future<Void> withCanvas(TaskOutcome o) {
    Request r = o.request();
    TaskMessage m = o.message();
    java.util.List<Object> trail = trails.remove(m.id());
    if (States.SUCCESS.equals(o.state())
        && trail == null
        && CanvasDuties.noneAfterSuccess(m, o.value())
        && !store(o)) {
      return Future.succeededFuture(); // nothing to send, store or count: no futures to chain
    }
    if (States.SUCCESS.equals(o.state())) {
      return canvas
          .afterSuccessOf(m, o.value(), r.delivery().exchange(), r.delivery().routingKey())
          .transform(
              ar -> {
                if (ar.failed()) {
                  ExceptionInfo why =
                      ar.cause() instanceof CanvasDuties.CanvasError ce
                          ? ce.info()
                          : ExceptionInfo.from(ar.cause());
                  TaskOutcome failedOutcome =
                      new TaskOutcome(r, m, States.FAILURE, null, why, o.runtimeSeconds());
                  succeeded--;
                  failed++;
                  logOutcome(failedOutcome);
                  if (trail != null) {
                    trails.put(m.id(), trail); // still the failed task's children
                  }
                  return withCanvas(failedOutcome);
                }
                // a returned CanvasResult is stored as its result tuple (Celery's prepare_value)
                TaskOutcome done =
                    ar.result().value() == o.value()
                        ? o
                        : new TaskOutcome(
                            r, m, States.SUCCESS, ar.result().value(), null, o.runtimeSeconds());
                Future<Void> stored =
                    store(done)
                        ? afterStarted(
                            r,
                            document(done, Instant.now())
                                .withChildren(children(trail, ar.result().children())))
                        : Future.succeededFuture();
                // fails only when the state could not be stored; the chord bookkeeping's own
                // failures are logged
                return stored.compose(
                    x ->
                        canvas
                            .chordPart(m, States.SUCCESS, done.value())
                            .transform(y -> Future.<Void>succeededFuture()));
              });
    }
    TaskResult doc =
        trail == null ? document(o, Instant.now()) : document(o, Instant.now()).withChildren(trail);
    Future<Void> stored = store(o) ? afterStarted(r, doc) : Future.succeededFuture();
    return stored.compose(
        x ->
            (States.REVOKED.equals(o.state())
                    ? canvas.afterRevoked(m, o.error())
                    : canvas.afterFailure(m, o.error()))
                .transform(y -> Future.<Void>succeededFuture()));
  }

  /**
   * The final state could not be stored even after the backend's retries. With acks_late the
   * message goes back to the broker (requeued), so the task runs again once the backend is back:
   * acking it would lose the result for good. Without acks_late the message was acked when the task
   * started; the result is lost, which is logged with the task id.
   */
  private void notStored(TaskOutcome o, String why) {
    Request r = o.request();
    resultsLost++;
    if (r.acksLate()) {
      log.error(
          "Result of task {} ({}) could not be stored: {}; the message is requeued (acks_late)",
          r.logName(),
          o.state(),
          why);
      settle.accept(Settle.requeue(r.delivery()));
    } else if (o.started()) {
      log.error(
          "Result of task {} ({}) could not be stored and is lost: {} (the message was acked when the task "
              + "started; with acks_late it would be requeued)",
          r.logName(),
          o.state(),
          why);
    } else {
      log.error(
          "Result of task {} ({}) could not be stored and is lost: {}; the message is acked (it never ran)",
          r.logName(),
          o.state(),
          why);
      settle.accept(Settle.ack(r.delivery())); // revoked or expired before it ran: Celery acks
    }
  }

  private static Signature replacementOf(TaskOutcome o) {
    try {
      return CanvasDuties.replacement(o.error());
    } catch (IllegalArgumentException malformed) {
      return null; // recorded as the failure it is
    }
  }

  /**
   * {@code ctx.replace(sig)} (Celery's Ignore after {@code sig.delay()}): the replacement is sent,
   * nothing is stored for this task (the replacement stores under its id) and the message is acked.
   * A replacement that cannot be sent fails the task with that error, as in Celery.
   */
  private Future<Void> replaced(TaskOutcome o, Signature replacement) {
    Request r = o.request();
    log.info(
        "Task {}[{}] ignored (replaced by {})",
        o.message().displayName(),
        o.message().id(),
        replacement);
    pendingWrites++;
    return canvas
        .replace(o.message(), replacement)
        .transform(
            ar -> {
              writeDone();
              if (ar.failed()) {
                log.error(
                    "Task {}: its replacement could not be sent: {}",
                    r.logName(),
                    ar.cause().toString());
                return finished(
                    new TaskOutcome(
                        r,
                        o.message(),
                        States.FAILURE,
                        null,
                        ExceptionInfo.from(ar.cause()),
                        o.runtimeSeconds()));
              }
              if (!o.started() || r.acksLate()) {
                settle.accept(Settle.ack(r.delivery()));
              }
              return Future.succeededFuture();
            });
  }

  /**
   * Celery: SUCCESS is skipped with ignore_result; failures only when the task itself ignores
   * results.
   */
  private boolean store(TaskOutcome o) {
    Request r = o.request();
    if (!backend.enabled() || r == null) {
      return backend.enabled();
    }
    if (States.SUCCESS.equals(o.state())) {
      return !r.ignoreResult();
    }
    return !r.taskIgnoresResult() || r.storeErrorsEvenIfIgnored();
  }

  private void settleAfter(TaskOutcome o) {
    Request r = o.request();
    if (!o.started()) {
      settle.accept(Settle.ack(r.delivery())); // revoked or expired before it ran: Celery acks
    } else if (r.acksLate()) {
      boolean failed = States.FAILURE.equals(o.state());
      settle.accept(
          failed && !r.acksOnFailureOrTimeout()
              ? Settle.reject(r.delivery())
              : Settle.ack(r.delivery()));
    }
  }

  /**
   * Task.retry: publish the copy first; only once the broker has it is RETRY stored and the
   * original settled. If the copy cannot be published the task fails with that error, as in Celery.
   */
  private void retry(TaskOutcome o) {
    Request r = o.request();
    Retry retry = o.retry();
    OutgoingMessage copy =
        TaskMessages.retryOf(
            o.message(),
            r.delivery().exchange(),
            r.delivery().routingKey(),
            retry.eta(),
            retry.args(),
            retry.kwargs(),
            hostname);
    publisher
        .apply(copy)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                ExceptionInfo reason =
                    o.error() != null
                        ? o.error()
                        : ExceptionInfo.of(
                            ExceptionInfo.CELERY_EXCEPTIONS, "Retry", retry.getMessage());
                TaskOutcome stored =
                    new TaskOutcome(
                        r,
                        o.message(),
                        States.RETRY,
                        null,
                        reason,
                        o.runtimeSeconds(),
                        true,
                        retry);
                List<Object> children =
                    List.of(Arrays.asList(Arrays.asList(o.message().id(), null), null));
                Future<Void> w =
                    store(stored)
                        ? afterStarted(r, document(stored, null).withChildren(children))
                        : Future.succeededFuture();
                w.onComplete(x -> settleAfter(stored));
              } else {
                log.error("Task {} could not be retried: {}", r.logName(), ar.cause().getMessage());
                TaskOutcome failedOutcome =
                    new TaskOutcome(
                        r,
                        o.message(),
                        States.FAILURE,
                        null,
                        ExceptionInfo.from(ar.cause()),
                        o.runtimeSeconds());
                failed++;
                Future<Void> w =
                    store(failedOutcome)
                        ? afterStarted(r, document(failedOutcome, Instant.now()))
                        : Future.succeededFuture();
                w.onComplete(
                    x -> {
                      if (r.acksLate()) {
                        settle.accept(Settle.reject(r.delivery()));
                      }
                    });
              }
            });
  }

  /** Writes a final document, after the request's STARTED write if one is still in flight. */
  private Future<Void> afterStarted(Request r, TaskResult doc) {
    Future<Void> prior = r == null ? null : startedWrites.get(r.id());
    return prior == null ? write(doc) : prior.eventually(() -> write(doc));
  }

  private void logOutcome(TaskOutcome o) {
    if (States.SUCCESS.equals(o.state()) && !log.isInfoEnabled()) {
      return; // neither the MDC nor the task's name is needed for a line nobody logs
    }
    try (io.celerity.types.TaskMdc.Scope mdc =
        io.celerity.types.TaskMdc.enter(o.message().id(), o.message().task())) {
      logOutcomeLine(o);
    }
  }

  private void logOutcomeLine(TaskOutcome o) {
    String name = o.message().displayName() + "[" + o.message().id() + "]";
    if (States.SUCCESS.equals(o.state())) {
      if (log.isInfoEnabled()) {
        String canvasResult = CanvasResult.logRepr(o.value());
        log.info(
            "Task {} succeeded in {}s: {}",
            name,
            String.format("%.6f", o.runtimeSeconds()),
            canvasResult != null ? canvasResult : PyRepr.of(o.value()));
      }
    } else if (States.RETRY.equals(o.state())) {
      log.info("Task {} retry: {}", name, o.retry().getMessage());
    } else if (States.REVOKED.equals(o.state())) {
      log.info(
          "Discarding revoked task: {} ({})",
          name,
          o.error().args().isEmpty() ? "revoked" : o.error().args().get(0));
    } else if (o.request() != null) {
      String tb = o.error().traceback();
      log.error(
          "Task {} raised unexpected: {}{}", name, o.error().repr(), tb == null ? "" : "\n" + tb);
    }
  }

  private Future<Void> write(TaskResult doc) {
    pendingWrites++;
    return backend
        .store(doc)
        .onFailure(
            err ->
                log.error(
                    "Failed to store result of task {} ({}): {}",
                    doc.taskId(),
                    doc.status(),
                    err.getMessage()))
        .onComplete(ar -> writeDone());
  }

  private TaskResult document(TaskOutcome o, Instant done) {
    boolean success = States.SUCCESS.equals(o.state());
    return document(
        o.message(),
        o.request(),
        o.state(),
        success ? o.value() : o.error().toResult(),
        success ? null : o.error().traceback(),
        done);
  }

  private TaskResult document(
      TaskMessage msg, Request r, String status, Object result, String traceback, Instant done) {
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
    return TaskResult.builder(msg.id(), status)
        .result(result)
        .traceback(traceback)
        .dateDone(done)
        .groupId(msg.group())
        .parentId(msg.parentId())
        .extended(extended)
        .replyTo(msg.replyTo(), msg.correlationId())
        .build();
  }

  public long succeeded() {
    return succeeded;
  }

  public long failed() {
    return failed;
  }

  public long retried() {
    return retried;
  }

  public long revoked() {
    return revoked;
  }

  public long resultsLost() {
    return resultsLost;
  }

  public long pendingWrites() {
    return pendingWrites;
  }

  private void writeDone() {
    if (--pendingWrites == 0 && !idleWaiters.isEmpty()) {
      java.util.List<io.vertx.core.Promise<Void>> waiting = new java.util.ArrayList<>(idleWaiters);
      idleWaiters.clear();
      waiting.forEach(io.vertx.core.Promise::tryComplete);
    }
  }

  /** Completes once no result write is pending (at once if none is). */
  public Future<Void> whenIdle() {
    if (pendingWrites == 0) {
      return Future.succeededFuture();
    }
    io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
    idleWaiters.add(p);
    return p.future();
  }

  /**
   * Sends what a running task started ({@code ctx.applyAsync}): chord sizes, then the messages; the
   * result is listed in the task's {@code children} when its state is stored.
   */
  public Future<Void> launch(String parentId, io.celerity.canvas.Launch launch) {
    return canvas
        .send(launch)
        .onSuccess(
            v -> {
              if (parentId != null) {
                trails
                    .computeIfAbsent(parentId, k -> new java.util.ArrayList<>())
                    .add(launch.resultTuple());
              }
            });
  }

  /**
   * The children a task sent while it ran, then {@code more} (its callbacks and next chain step).
   */
  private java.util.List<Object> children(
      java.util.List<Object> trail, java.util.List<Object> more) {
    if (trail == null) {
      return more;
    }
    java.util.List<Object> all = new java.util.ArrayList<>(trail);
    if (more != null) {
      all.addAll(more);
    }
    return all;
  }
}

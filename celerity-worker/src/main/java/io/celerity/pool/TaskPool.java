package io.celerity.pool;

import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.States;
import io.celerity.task.Retry;
import io.celerity.transport.LoopMailbox;
import io.celerity.types.Request;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schedules requests onto a {@link Runner}, at most {@code concurrency} at a time, and enforces
 * time limits with event-loop timers. All bookkeeping happens on the dispatcher's event loop; only
 * task bodies run elsewhere.
 *
 * <p>At the hard time limit the outcome is FAILURE TimeLimitExceeded and the slot is given back at
 * once; the runner then stops the body as well as it can.
 */
public class TaskPool {

  /** Where the pool reports what happens. */
  public interface Listener {
    void started(Request request);

    void finished(TaskOutcome outcome);

    /**
     * Its worker was lost and the message goes back to the broker (acks_late +
     * reject_on_worker_lost).
     */
    default void requeued(Request request) {}

    /** The runner threw while taking the request (reported FAILURE next): counted as contained. */
    default void refused(Request request) {}
  }

  private static final Logger log = LoggerFactory.getLogger("celery.pool");

  private final Vertx vertx;
  private final Context context;
  private final Runner runner;
  private java.util.function.Predicate<String> isRevoked = id -> false;
  private final Listener listener;
  private int concurrency;
  private final Deque<Request> queued = new ArrayDeque<>();
  /*
   * Jobs are kept by delivery (the Job object, one per request), never by task id: two messages may
   * carry the same id (a publisher reusing ids, a redelivery after a reconnect while the first copy
   * still runs), and each copy must stay visible and accounted for until it ends.
   */
  private final Set<Job> running = new LinkedHashSet<>();
  private final List<io.vertx.core.Promise<Void>> idleWaiters = new ArrayList<>();

  /**
   * Given to a runner with a lookahead that has not started them yet (still Celery's "reserved").
   */
  private final Set<Job> handed = new LinkedHashSet<>();

  /**
   * Given up (hard time limit, terminate), but their bodies still hold their slots: over the
   * abandoned-thread cap.
   */
  private final Set<Job> holding = new LinkedHashSet<>();

  private final LoopMailbox reports;
  private final Map<String, Long> totals = new java.util.TreeMap<>();
  private long processed;
  private java.util.function.Predicate<Request> rejectOnWorkerLost = r -> false;

  /** Sends the subtasks of running tasks ({@code ctx.applyAsync}); null: tasks cannot send any. */
  private SubtaskSender subtasks;

  public void subtasks(SubtaskSender sender) {
    this.subtasks = sender;
  }

  public TaskPool(Vertx vertx, Context context, Runner runner, int concurrency, Listener listener) {
    this.vertx = vertx;
    this.context = context;
    this.concurrency = concurrency;
    this.listener = listener;
    this.runner = runner;
    this.reports = new LoopMailbox(context);
  }

  /** Checked when a request is about to start: revoked ids are not run. */
  public void revokedCheck(java.util.function.Predicate<String> check) {
    this.isRevoked = check;
  }

  /**
   * {@code revoke}: queued requests with these ids are dropped (REVOKED, never started); with
   * {@code terminate}, running ones are reported REVOKED ("terminated"), their slots freed and the
   * runner told to stop them. Returns the ids terminated.
   */
  public List<String> revoke(java.util.Collection<String> ids, boolean terminate, String signal) {
    takeHanded(r -> ids.contains(r.id()))
        .forEach(r -> listener.finished(TaskOutcome.revokedBeforeStart(r, "revoked")));
    if (terminate) {
      // Started on a pool thread, but the report is still on its way: terminate them as running
      // ones.
      handed.stream().filter(j -> ids.contains(j.request.id())).toList().forEach(running::add);
    }
    queued.removeIf(
        r -> {
          if (ids.contains(r.id())) {
            listener.finished(TaskOutcome.revokedBeforeStart(r, "revoked"));
            return true;
          }
          return false;
        });
    List<String> terminated = new ArrayList<>();
    if (terminate) {
      for (Job job : new ArrayList<>(running)) {
        if (ids.contains(job.request.id())) {
          terminated.add(job.request.id());
          log.info("Terminating {} ({})", job.request.logName(), signal);
          giveUp(
              job,
              new TaskOutcome(
                  job.request,
                  job.request.message(),
                  States.REVOKED,
                  null,
                  ExceptionInfo.revoked("terminated"),
                  runtime(job)),
              () -> runner.terminate(job, signal));
        }
      }
    }
    return terminated;
  }

  public void submit(Request request) {
    queued.addLast(request);
    dispatch();
  }

  private void dispatch() {
    int limit = concurrency + runner.lookahead(concurrency);
    while (running.size() + holding.size() + handed.size() < limit && !queued.isEmpty()) {
      hand(queued.pollFirst());
    }
  }

  /**
   * Every message is contained: a request the runner refuses (a bug, a child that cannot take it)
   * ends as FAILURE with the error, its slot is given back and the next one is handed.
   */
  private void hand(Request request) {
    Job job = new Job(request, subtasks);
    try {
      handOrRefuse(job);
    } catch (RuntimeException e) {
      refused(job, e);
    }
  }

  private void refused(Job job, RuntimeException error) {
    Request request = job.request;
    log.error(
        "Task {}: handing it to the pool failed; FAILURE is stored and the message settled",
        request.logName(),
        error);
    boolean startReported = running.contains(job); // its early ack (if any) has been sent
    boolean held = startReported || handed.contains(job);
    // the runner may have reported the job itself before it threw: one outcome per job
    if (held ? !end(job) : !job.finished.compareAndSet(false, true)) {
      return;
    }
    listener.refused(request);
    listener.finished(TaskOutcome.refused(request, ExceptionInfo.from(error), startReported));
    idleIfDone();
  }

  private void handOrRefuse(Job job) {
    Request request = job.request;
    job.vertx = vertx;
    // Celery's Request.execute_using_pool: a request that expired while it waited for a slot is
    // revoked ("expired"), not run. Runners with a lookahead check again when a thread takes it.
    if (job.expired()) {
      listener.finished(TaskOutcome.revokedBeforeStart(request, "expired"));
      return;
    }
    if (isRevoked.test(request.id())) {
      listener.finished(TaskOutcome.revokedBeforeStart(request, "revoked"));
      return;
    }
    boolean startsItself = runner.lookahead(concurrency) > 0;
    if (startsItself) {
      handed.add(job);
    } else {
      job.claim();
      job.startNanos = System.nanoTime();
      started(job);
    }
    runner.start(
        job,
        new Runner.Completion() {
          @Override
          public void started() {
            reports.post(() -> TaskPool.this.started(job));
          }

          @Override
          public void expired() {
            reports.post(
                () ->
                    finish(
                        job,
                        () ->
                            listener.finished(
                                TaskOutcome.revokedBeforeStart(job.request, "expired"))));
          }

          @Override
          public void done(Object value, ExceptionInfo error) {
            reports.post(
                () -> {
                  released(job);
                  complete(job, value, error);
                });
          }

          @Override
          public void retry(Retry retry, ExceptionInfo error) {
            reports.post(
                () -> {
                  released(job);
                  finish(
                      job,
                      new TaskOutcome(
                          job.request,
                          job.request.message(),
                          States.RETRY,
                          null,
                          error,
                          runtime(job),
                          true,
                          retry));
                });
          }

          @Override
          public void traced(
              String state,
              Object value,
              ExceptionInfo error,
              Double runtime,
              ExceptionInfo notStored,
              java.util.List<io.celerity.backend.EncodedState> stores) {
            reports.post(
                () ->
                    finish(
                        job,
                        TaskOutcome.tracedByChild(
                            job.request,
                            state,
                            value,
                            error,
                            runtime != null ? runtime : runtime(job),
                            notStored,
                            stores)));
          }

          @Override
          public void workerLost(ExceptionInfo error) {
            reports.post(
                () -> {
                  released(job);
                  lost(job, error);
                });
          }
        });
  }

  /**
   * The body started (now, or on a pool thread at {@code job.startNanos}): the request is active.
   */
  private void started(Job job) {
    handed.remove(job);
    if (job.finished.get()) {
      return; // terminated between its start on a pool thread and this report
    }
    Request request = job.request;
    if (job.span == null) { // runners that do not start bodies themselves
      job.span = io.celerity.tracing.TaskTracing.start(request.message(), request.hostname());
    }
    running.add(job);
    processed++;
    totals.merge(request.message().task(), 1L, Long::sum);
    listener.started(request);
    long sinceStart = System.nanoTime() - job.startNanos;
    if (request.softTimeLimit() != null) {
      job.softTimer =
          vertx.setTimer(millis(request.softTimeLimit(), sinceStart), id -> softLimit(job));
    }
    if (request.timeLimit() != null) {
      job.hardTimer = vertx.setTimer(millis(request.timeLimit(), sinceStart), id -> hardLimit(job));
    }
  }

  /** Cancels a job the runner holds but has not started; false when the runner got to it first. */
  private boolean unhand(Job job) {
    if (!job.claim() && !runner.unqueue(job)) {
      return false;
    }
    handed.remove(job);
    idleIfDone();
    return true;
  }

  /** Requests the runner holds and has not started, taken back; those it started meanwhile stay. */
  private List<Request> takeHanded(java.util.function.Predicate<Request> which) {
    List<Request> out = new ArrayList<>();
    for (Job job : new ArrayList<>(handed)) {
      if (which.test(job.request) && unhand(job)) {
        out.add(job.request);
      }
    }
    return out;
  }

  private static double runtime(Job job) {
    return (System.nanoTime() - job.startNanos) / 1e9;
  }

  /**
   * Celery's Request.on_failure for WorkerLostError: requeue only with acks_late and
   * reject_on_worker_lost.
   */
  private void lost(Job job, ExceptionInfo error) {
    Request r = job.request;
    if (r.acksLate() && (r.rejectOnWorkerLost() || rejectOnWorkerLost.test(r))) {
      log.warn(
          "Worker lost while running {}; the message is requeued (reject_on_worker_lost)",
          r.logName());
      finish(
          job,
          () -> {
            io.celerity.tracing.TaskTracing.endRequeued(job.span);
            listener.requeued(r);
          });
    } else {
      complete(job, null, error);
    }
  }

  private static long millis(double seconds, long elapsedNanos) {
    return Math.max(1, Math.round(seconds * 1000) - elapsedNanos / 1_000_000);
  }

  private void complete(Job job, Object value, ExceptionInfo error) {
    finish(
        job,
        new TaskOutcome(
            job.request,
            job.request.message(),
            error == null ? States.SUCCESS : States.FAILURE,
            value,
            error,
            runtime(job)));
  }

  private void softLimit(Job job) {
    if (job.finished.get()) {
      return;
    }
    log.warn(
        "Soft time limit ({}s) exceeded for {}",
        job.request.softTimeLimit(),
        job.request.logName());
    job.softLimitExceeded = true;
    runner.softLimit(job);
  }

  private void hardLimit(Job job) {
    if (job.finished.get()) {
      return;
    }
    double limit = job.request.timeLimit();
    log.error("Hard time limit ({}s) exceeded for {}", limit, job.request.logName());
    giveUp(
        job,
        new TaskOutcome(
            job.request,
            job.request.message(),
            States.FAILURE,
            null,
            ExceptionInfo.timeLimitExceeded(limit),
            runtime(job)),
        () -> runner.hardLimit(job));
  }

  private void finish(Job job, TaskOutcome outcome) {
    finish(
        job,
        () -> {
          io.celerity.tracing.TaskTracing.end(job.span, outcome);
          listener.finished(outcome);
        });
  }

  /**
   * Reports a job that is given up while its body runs (hard time limit, terminate) and tells the
   * runner to stop it. A runner that cannot stop the body nor run it aside (the cap of abandoned
   * threads is reached) marks the job {@link Job#holdsSlot}: its slot stays taken until the body
   * returns.
   */
  private void giveUp(Job job, TaskOutcome outcome, Runnable stop) {
    if (!end(job)) {
      return;
    }
    io.celerity.tracing.TaskTracing.end(job.span, outcome);
    listener.finished(outcome);
    idleIfDone();
    stop.run();
    if (job.holdsSlot) {
      holding.add(job);
    }
    dispatch();
  }

  /** A body given up earlier has returned: the slot it held (if it held one) is free again. */
  private boolean released(Job job) {
    if (!holding.remove(job)) {
      return false;
    }
    log.info("The abandoned body of {} returned; its slot is free again", job.request.logName());
    dispatch();
    return true;
  }

  private void finish(Job job, Runnable report) {
    if (!end(job)) {
      return;
    }
    report.run();
    idleIfDone();
    dispatch();
  }

  /** Marks the job ended and takes it out of the bookkeeping; false when it had ended already. */
  private boolean end(Job job) {
    if (!job.finished.compareAndSet(false, true)) {
      return false; // already reported, e.g. abandoned at its hard time limit
    }
    if (job.softTimer >= 0) {
      vertx.cancelTimer(job.softTimer);
    }
    if (job.hardTimer >= 0) {
      vertx.cancelTimer(job.hardTimer);
    }
    running.remove(job);
    handed.remove(job);
    // idleness is signalled by the callers once the outcome is reported: warm shutdown waits for
    // idle and then flushes the outcomes, so an outcome reported after it would be lost
    return true;
  }

  private void idleIfDone() {
    if (running.isEmpty() && handed.isEmpty() && !idleWaiters.isEmpty()) {
      List<io.vertx.core.Promise<Void>> waiting = new ArrayList<>(idleWaiters);
      idleWaiters.clear();
      waiting.forEach(io.vertx.core.Promise::tryComplete);
    }
  }

  /**
   * Completes once no request is running or handed to the runner (at once if none is): warm
   * shutdown takes the unstarted ones back first ({@link #takeQueued}), so what is still handed
   * then has started on a pool thread and only its start report is on the way; counting it as idle
   * let the worker exit under a running task and lose its result.
   */
  public io.vertx.core.Future<Void> whenIdle() {
    if (running.isEmpty() && handed.isEmpty()) {
      return io.vertx.core.Future.succeededFuture();
    }
    io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
    idleWaiters.add(p);
    return p.future();
  }

  /**
   * Drops queued requests that arrived on a lost connection (generation up to {@code generation}):
   * the broker requeued them, so running them too would run them twice.
   */
  public int forgetGeneration(long generation) {
    int before = queued.size();
    queued.removeIf(r -> r.delivery().generation() <= generation);
    return before - queued.size() + takeHanded(r -> r.delivery().generation() <= generation).size();
  }

  /**
   * Requests waiting for a slot, taken out of the pool (for warm shutdown: they go back to the
   * broker).
   */
  public List<Request> takeQueued() {
    List<Request> out = takeHanded(r -> true);
    out.addAll(queued);
    queued.clear();
    return out;
  }

  public int activeCount() {
    return running.size();
  }

  /** Requests handed to the runner whose start has not been reported here yet. */
  public int startingCount() {
    return handed.size();
  }

  /** Slots held by bodies given up over the cap of abandoned threads (not active, not free). */
  public int heldSlots() {
    return holding.size();
  }

  /**
   * Bodies given up at a hard time limit (or terminated) that still run on a thread of the runner.
   */
  public int abandoned() {
    return runner.abandoned();
  }

  public int queuedCount() {
    return handed.size() + queued.size();
  }

  /** Requests started since the worker started (Celery's {@code processed}). */
  public long processed() {
    return processed;
  }

  /** Started requests by task name (Celery's stats {@code total}). */
  public Map<String, Long> totals() {
    return java.util.Collections.unmodifiableMap(totals);
  }

  public int concurrency() {
    return concurrency;
  }

  /** Starts the runner for the initial concurrency; requests wait for it. */
  public io.vertx.core.Future<Void> warmUp() {
    return runner.warmUp(concurrency);
  }

  /**
   * Changes the number of slots (autoscale, pool_grow, pool_shrink). Running tasks are never
   * stopped: when shrinking, the slots go as their tasks finish.
   */
  public void resize(int newConcurrency) {
    if (newConcurrency < 1 || newConcurrency == concurrency) {
      return;
    }
    log.info(
        "Pool {} to {} slots", newConcurrency > concurrency ? "grows" : "shrinks", newConcurrency);
    concurrency = newConcurrency;
    runner.resize(newConcurrency);
    dispatch();
  }

  /** Decides per request whether a lost worker requeues its message (besides acks_late). */
  public void rejectOnWorkerLost(java.util.function.Predicate<Request> predicate) {
    this.rejectOnWorkerLost = predicate;
  }

  /** Requests running now, oldest first. */
  public List<Request> active() {
    List<Request> out = new ArrayList<>();
    running.forEach(j -> out.add(j.request));
    return out;
  }

  /**
   * Jobs running now, oldest first (each with its request and {@link System#nanoTime()} of its
   * start).
   */
  public List<Job> activeJobs() {
    return new ArrayList<>(running);
  }

  /** Requests waiting for a slot, oldest first. */
  public List<Request> queued() {
    List<Request> out = new ArrayList<>();
    handed.forEach(j -> out.add(j.request));
    out.addAll(queued);
    return out;
  }

  public void shutdownNow() {
    runner.close();
  }
}

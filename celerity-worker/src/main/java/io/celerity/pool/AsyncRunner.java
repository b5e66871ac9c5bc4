package io.celerity.pool;

import io.celerity.task.TaskRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Async Java tasks: bodies that return an {@code io.vertx.core.Future} or a {@link
 * CompletionStage}. Each starts on a context of its own (a duplicate of one of a few event-loop
 * contexts, taken in turn), so the Vert.x clients it uses call it back there; it holds no thread
 * while it waits, and its {@link TaskPool} bounds how many are in flight ({@code
 * async_concurrency}).
 *
 * <p>A task cannot be stopped, only told: at the soft limit, the hard limit and on terminate its
 * {@code ctx.cancelled()} completes (and a returned {@link CompletableFuture} is cancelled at the
 * hard limit and on terminate). The pool has already reported the hard limit or terminate and freed
 * the slot; the body is counted as abandoned until its future ends, and its late outcome is
 * dropped.
 *
 * <p>A body that blocks its event loop stalls every task on that loop, and the worker's verticles
 * sharing it: a watchdog thread probes each loop and reports a loop that does not answer within the
 * threshold, naming the task (the one being started on it, else the tasks whose code is on the
 * loop's stack, else those in flight on it).
 */
public final class AsyncRunner implements Runner {

  private static final Logger log = LoggerFactory.getLogger("celery.pool.async");

  private final Vertx vertx;
  private final List<Loop> loops = new ArrayList<>();
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger abandoned = new AtomicInteger();
  private final long blockedNanos;
  private final ScheduledExecutorService watchdog;
  private final AtomicLong blockedReports = new AtomicLong();

  /** One event-loop context async tasks start on, and what the watchdog knows of it. */
  private static final class Loop {
    final ContextInternal context;
    volatile Thread thread;

    /** The job whose body is being called on this loop right now (its synchronous part). */
    volatile Job starting;

    final Set<Job> jobs = ConcurrentHashMap.newKeySet();

    /**
     * {@link System#nanoTime()} when the outstanding probe was posted, 0 when none is outstanding.
     */
    final AtomicLong probeSent = new AtomicLong();

    volatile boolean reported;

    Loop(ContextInternal context) {
      this.context = context;
    }
  }

  /**
   * @param loops event-loop contexts to spread the tasks over
   * @param blockedSeconds a loop that does not answer a probe for this long is reported
   */
  public AsyncRunner(Vertx vertx, int loops, double blockedSeconds) {
    this.vertx = vertx;
    for (int i = 0; i < Math.max(1, loops); i++) {
      Loop loop = new Loop(((VertxInternal) vertx).createEventLoopContext());
      loop.context.runOnContext(v -> loop.thread = Thread.currentThread());
      this.loops.add(loop);
    }
    this.blockedNanos = (long) (blockedSeconds * 1e9);
    // a thread of its own: the loops it watches may be the blocked ones
    this.watchdog =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "celerity-async-watchdog");
              t.setDaemon(true);
              return t;
            });
    long every = Math.max(10, (long) (blockedSeconds * 1000 / 4));
    watchdog.scheduleAtFixedRate(this::probe, every, every, TimeUnit.MILLISECONDS);
  }

  @Override
  public void start(Job job, Completion completion) {
    Loop loop = loops.get(Math.floorMod(next.getAndIncrement(), loops.size()));
    ContextInternal context = loop.context.duplicate();
    job.vertx = vertx;
    job.context = context;
    loop.jobs.add(job);
    context.runOnContext(v -> invoke(loop, job, completion));
  }

  private void invoke(Loop loop, Job job, Completion completion) {
    if (job.abandoned) {
      ended(loop, job, completion, null, new java.util.concurrent.CancellationException());
      return; // given up before it started
    }
    Object returned;
    loop.starting = job;
    try {
      returned = job.request.task().function().run(job);
    } catch (Throwable t) {
      afterSends(job, () -> ended(loop, job, completion, null, t));
      return;
    } finally {
      loop.starting = null;
    }
    CompletionStage<?> stage = stage(returned);
    job.stage = stage;
    job.cancellable = returned instanceof CompletableFuture<?>;
    stage.whenComplete(
        (value, error) -> afterSends(job, () -> ended(loop, job, completion, value, error)));
  }

  /**
   * Runs {@code report} once the subtasks the body sent without waiting are sent (or failed): they
   * are listed in its children, which are stored with its result.
   */
  private static void afterSends(Job job, Runnable report) {
    CompletableFuture<Void> sends = job.sendsEnded();
    if (sends == null) {
      report.run();
    } else {
      sends.whenComplete((v, e) -> report.run());
    }
  }

  /**
   * What a body returned as a stage: a Vert.x future, a stage, or a plain value (already complete).
   */
  private static CompletionStage<?> stage(Object returned) {
    if (returned instanceof io.vertx.core.Future<?> f) {
      return f.toCompletionStage();
    }
    if (returned instanceof CompletionStage<?> s) {
      return s;
    }
    return CompletableFuture.completedFuture(returned);
  }

  private void ended(Loop loop, Job job, Completion completion, Object value, Throwable error) {
    loop.jobs.remove(job);
    synchronized (job) {
      job.bodyEnded = true;
      if (job.abandoned) {
        abandoned.decrementAndGet();
        job.abandoned = false;
      }
    }
    Bodies.Ended ended =
        error == null
            ? Bodies.returned(value)
            : Bodies.failed(
                Bodies.autoretry(unwrap(error), job, job.request.task().options()), job);
    if (ended.retry() != null) {
      completion.retry(ended.retry(), ended.error());
    } else {
      completion.done(ended.value(), ended.error());
    }
  }

  /** The task's own exception out of the stage's wrappers. */
  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  @Override
  public void softLimit(Job job) {
    job.cancellation.complete("SoftTimeLimitExceeded");
  }

  @Override
  public void hardLimit(Job job) {
    stop(job, "TimeLimitExceeded");
  }

  @Override
  public void terminate(Job job, String signal) {
    stop(job, "terminated");
  }

  /** Already reported and its slot freed: tell the body, and count it until its future ends. */
  private void stop(Job job, String reason) {
    synchronized (job) {
      if (job.bodyEnded || job.abandoned) {
        return;
      }
      job.abandoned = true;
      abandoned.incrementAndGet();
    }
    job.cancellation.complete(reason);
    if (job.cancellable && job.stage instanceof CompletableFuture<?> f) {
      f.cancel(true);
    }
  }

  @Override
  public int abandoned() {
    return abandoned.get();
  }

  /** Times a blocked loop was reported since the start. */
  public long blockedReports() {
    return blockedReports.get();
  }

  /** Watchdog tick: post a probe to each loop, report the loops whose probe is overdue. */
  private void probe() {
    long now = System.nanoTime();
    for (Loop loop : loops) {
      long sent = loop.probeSent.get();
      if (sent == 0) {
        if (loop.probeSent.compareAndSet(0, now)) {
          loop.context.runOnContext(v -> answered(loop));
        }
      } else if (now - sent > blockedNanos && !loop.reported) {
        loop.reported = true;
        blockedReports.incrementAndGet();
        report(loop, (now - sent) / 1_000_000);
      }
    }
  }

  private void answered(Loop loop) {
    long sent = loop.probeSent.getAndSet(0);
    if (loop.reported) {
      loop.reported = false;
      log.warn(
          "Event loop {} answers again after {} ms",
          name(loop),
          (System.nanoTime() - sent) / 1_000_000);
    }
  }

  private void report(Loop loop, long millis) {
    Thread thread = loop.thread;
    StackTraceElement[] stack = thread == null ? new StackTraceElement[0] : thread.getStackTrace();
    log.error(
        "Async task {} has blocked event loop {} for {} ms: an async task must not block (wait on a "
            + "future, or make it a thread-pool task); every task and verticle on that loop waits meanwhile. Stack:\n    {}",
        culprits(loop, stack),
        name(loop),
        millis,
        String.join("\n    ", Arrays.stream(stack).limit(12).map(Object::toString).toList()));
  }

  /**
   * Who blocks: the body being started, else the tasks whose code is on the stack, else all on the
   * loop.
   */
  static String culprits(Loop loop, StackTraceElement[] stack) {
    Job starting = loop.starting;
    if (starting != null) {
      return starting.request.logName();
    }
    Set<String> onStack = new LinkedHashSet<>();
    Set<String> all = new LinkedHashSet<>();
    for (Job job : loop.jobs) {
      String origin = TaskRegistry.origin(job.request.task().function()).getName();
      all.add(job.request.logName());
      for (StackTraceElement frame : stack) {
        if (frame.getClassName().equals(origin) || frame.getClassName().startsWith(origin + "$")) {
          onStack.add(job.request.message().displayName());
          break;
        }
      }
    }
    if (!onStack.isEmpty()) {
      return String.join(", ", onStack);
    }
    return all.isEmpty()
        ? "(none in flight; a callback)"
        : "one of "
            + String.join(", ", all.stream().limit(10).toList())
            + (all.size() > 10 ? " (+" + (all.size() - 10) + ")" : "");
  }

  private static String name(Loop loop) {
    Thread t = loop.thread;
    return t == null ? "?" : t.getName();
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
  }
}

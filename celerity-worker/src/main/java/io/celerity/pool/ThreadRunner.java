package io.celerity.pool;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs task bodies on pool threads ({@code -P threads}, {@code -P solo}) or virtual threads ({@code
 * -P virtual}, Java 21+). A thread cannot be killed: at the hard time limit the body is interrupted
 * and abandoned, and keeps its thread until it returns; the pool gets a thread more meanwhile so
 * the slot is really free. At most {@code max_abandoned_threads} bodies get a thread in their place
 * (any publisher can send {@code timelimit} headers, so the pool must not grow without bound):
 * beyond that an abandoned body keeps its slot until it returns ({@link Job#holdsSlot}), and the
 * pool runs with fewer free slots meanwhile.
 *
 * <p>Pool threads share one queue and the pool keeps a few jobs in it ({@link #lookahead}): a
 * thread that finishes a body takes the next job at once instead of parking until the event loop
 * hands it one (a futex wake-up and a context switch per task, most of a short task's cost).
 */
public final class ThreadRunner implements Runner {

  private final boolean virtual;
  private final ExecutorService executor;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("celery.pool");

  private int concurrency = 1;

  /** -1: as many as the concurrency. */
  private final int maxAbandoned;

  /** Abandoned bodies still running, and those of them that got a thread in their place. */
  private int abandoned;

  private int replaced;

  /** A runner whose cap of abandoned threads is its concurrency. */
  public ThreadRunner(String kind) {
    this(kind, -1);
  }

  /**
   * @param maxAbandoned {@code max_abandoned_threads}, or -1 for the concurrency
   */
  public ThreadRunner(String kind, int maxAbandoned) {
    this.virtual = "virtual".equals(kind);
    this.executor = virtual ? virtualExecutor() : pooledExecutor();
    this.maxAbandoned = maxAbandoned;
  }

  private static ExecutorService virtualExecutor() {
    try {
      return (ExecutorService)
          Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(
          "-P virtual needs Java 21 or newer (running on Java "
              + Runtime.version().feature()
              + "); use -P threads",
          e);
    }
  }

  private static ExecutorService pooledExecutor() {
    AtomicInteger n = new AtomicInteger();
    ThreadFactory f =
        r -> {
          Thread t = new Thread(r, "celerity-pool-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    return new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), f);
  }

  @Override
  public int lookahead(int concurrency) {
    // Virtual threads start per job (a virtual thread's park is cheap), so nothing waits in a
    // queue.
    return virtual ? 0 : concurrency;
  }

  @Override
  public io.vertx.core.Future<Void> warmUp(int concurrency) {
    resize(concurrency);
    return io.vertx.core.Future.succeededFuture();
  }

  @Override
  public void resize(int concurrency) {
    synchronized (this) {
      this.concurrency = concurrency;
    }
    sizeThreads();
  }

  /** Threads = slots + abandoned bodies that got a thread in their place (at most the cap). */
  private synchronized void sizeThreads() {
    if (virtual) {
      return;
    }
    ThreadPoolExecutor pool = (ThreadPoolExecutor) executor;
    int size = Math.max(1, concurrency + replaced);
    if (size >= pool.getMaximumPoolSize()) {
      pool.setMaximumPoolSize(size);
      pool.setCorePoolSize(size);
    } else {
      pool.setCorePoolSize(size);
      pool.setMaximumPoolSize(size);
    }
  }

  @Override
  public void start(Job job, Completion completion) {
    executor.execute(
        () -> {
          if (!virtual) {
            if (!job.claim()) {
              return; // cancelled while it waited: revoked, warm shutdown, lost connection
            }
            if (job.expired()) {
              completion.expired(); // expired while it waited for this thread
              return;
            }
            job.startNanos = System.nanoTime();
            job.span =
                io.celerity.tracing.TaskTracing.start(
                    job.request.message(), job.request.hostname());
            completion.started();
          }
          run(job, completion);
        });
  }

  private void run(Job job, Completion completion) {
    job.thread = Thread.currentThread();
    Bodies.Ended ended;
    boolean wasAbandoned;
    boolean wasReplaced;
    // the task's span is current in its body, so spans the body makes are its children
    try (io.opentelemetry.context.Scope traced = job.span == null ? null : job.span.makeCurrent()) {
      ended = Bodies.run(job.request.task().function(), job, job.request.task().options());
    } finally {
      synchronized (job) {
        job.thread = null;
        wasAbandoned = job.abandoned;
        wasReplaced = job.replaced;
      }
      Thread.interrupted(); // a soft-limit interrupt that raced the end of the body
    }
    if (wasAbandoned) {
      synchronized (this) {
        abandoned--;
        if (wasReplaced) {
          replaced--;
        }
      }
      sizeThreads();
    }
    if (ended.retry() != null) {
      completion.retry(ended.retry(), ended.error());
    } else {
      completion.done(ended.value(), ended.error());
    }
  }

  @Override
  public void softLimit(Job job) {
    job.cancellation.complete("SoftTimeLimitExceeded");
    Thread t = job.thread;
    if (t != null) {
      t.interrupt();
    }
  }

  @Override
  public void hardLimit(Job job) {
    job.cancellation.complete("TimeLimitExceeded");
    boolean replace;
    synchronized (this) {
      int cap = maxAbandoned < 0 ? concurrency : maxAbandoned;
      synchronized (job) {
        if (job.thread == null || job.abandoned) {
          return; // returned meanwhile, or abandoned already
        }
        job.abandoned = true;
        replace = replaced < cap;
        job.replaced = replace;
        job.holdsSlot = !replace;
        job.thread.interrupt();
      }
      abandoned++;
      if (replace) {
        replaced++;
      } else {
        log.warn(
            "{} abandoned at its time limit still runs, and max_abandoned_threads ({}) bodies already run "
                + "on threads of their own: its slot stays taken until it returns",
            job.request.logName(),
            cap);
      }
    }
    if (replace) {
      sizeThreads();
    }
  }

  @Override
  public synchronized int abandoned() {
    return abandoned;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}

package io.celerity.pool;


import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs task bodies on pool threads ({@code -P threads}, {@code -P solo}) or virtual threads
 * ({@code -P virtual}, Java 21+). A thread cannot be killed: at the hard time limit the body is
 * interrupted and abandoned, and keeps its thread until it returns.
 */
public final class ThreadRunner implements Runner {

  private final ExecutorService executor;

  public ThreadRunner(String kind) {
    this.executor = executorFor(kind);
  }

  static ExecutorService executorFor(String kind) {
    if ("virtual".equals(kind)) {
      try {
        return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("-P virtual needs Java 21 or newer (running on Java "
          + Runtime.version().feature() + "); use -P threads", e);
      }
    }
    AtomicInteger n = new AtomicInteger();
    ThreadFactory f = r -> {
      Thread t = new Thread(r, "celerity-pool-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    return Executors.newCachedThreadPool(f);
  }

  @Override
  public void start(Job job, Completion completion) {
    executor.execute(() -> run(job, completion));
  }

  private static void run(Job job, Completion completion) {
    job.thread = Thread.currentThread();
    Bodies.Ended ended;
    try {
      ended = Bodies.run(job.request.task().function(), job, job.request.task().options());
    } finally {
      job.thread = null;
      Thread.interrupted(); // a soft-limit interrupt that raced the end of the body
    }
    if (ended.retry() != null) {
      completion.retry(ended.retry(), ended.error());
    } else {
      completion.done(ended.value(), ended.error());
    }
  }

  @Override
  public void softLimit(Job job) {
    Thread t = job.thread;
    if (t != null) {
      t.interrupt();
    }
  }

  @Override
  public void hardLimit(Job job) {
    softLimit(job);
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}

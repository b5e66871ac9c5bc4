package io.celerity.pool;

import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.Json;
import io.celerity.task.Retry;
import io.celerity.task.TaskError;

import java.util.List;
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
    Object value = null;
    ExceptionInfo error = null;
    Retry retry = null;
    try {
      Object returned = runWithAutoretry(job);
      try {
        value = Json.toJsonValue(returned);
      } catch (IllegalArgumentException notJson) {
        // kombu raises EncodeError when a result cannot be serialised
        error = ExceptionInfo.from(new TaskError("kombu.exceptions", "EncodeError", notJson.getMessage()));
      }
    } catch (Retry r) {
      retry = r;
      error = r.reason() == null ? null : ExceptionInfo.from(r.reason());
    } catch (Throwable t) {
      error = job.softLimitExceeded && (t instanceof InterruptedException || t.getCause() instanceof InterruptedException)
        ? new ExceptionInfo("SoftTimeLimitExceeded", ExceptionInfo.BILLIARD_EXCEPTIONS, List.of(), ExceptionInfo.traceback(t))
        : ExceptionInfo.from(t);
    } finally {
      job.thread = null;
      Thread.interrupted(); // a late soft-limit interrupt must not leak into the next task on this thread
    }
    if (retry != null) {
      completion.retry(retry, error);
    } else {
      completion.done(value, error);
    }
  }

  /** Runs the body; an exception listed in {@code autoretry_for} becomes a retry (or re-raises once retries are used up). */
  private static Object runWithAutoretry(Job job) throws Exception {
    try {
      return job.request.task().function().run(job);
    } catch (Retry r) {
      throw r;
    } catch (Exception e) {
      io.celerity.task.TaskOptions o = job.request.task().options();
      if (!Retries.autoretries(o, e)) {
        throw e;
      }
      throw job.retry(e, Retries.countdown(o, job.retries()), null, null, null);
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

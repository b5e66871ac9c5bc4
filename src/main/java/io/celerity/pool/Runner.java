package io.celerity.pool;

import io.celerity.protocol.ExceptionInfo;
import io.celerity.task.Retry;

/**
 * Where task bodies run: pool threads, virtual threads, or child processes. The {@link TaskPool}
 * does the scheduling (slots, queue, time-limit timers, accounting) on its event loop; a runner
 * only starts bodies, reports how they ended, and acts on time limits.
 */
public interface Runner {

  /**
   * How a body ended: a JSON-ready value, the exception as Celery encodes it, or a retry. Either
   * method may be called from any thread, and exactly one of them once per job.
   */
  interface Completion {
    void done(Object value, ExceptionInfo error);

    /** The task asked to be retried ({@code self.retry}, or autoretry); {@code error} is the reason or null. */
    void retry(Retry retry, ExceptionInfo error);
  }

  /** Starts the job's task body off the event loop. */
  void start(Job job, Completion completion);

  /** The soft time limit passed: tell the task (Celery's SoftTimeLimitExceeded). */
  void softLimit(Job job);

  /**
   * The hard time limit passed and the job has already been reported as failed: stop the body if
   * the runner can (kill a child process), or abandon it.
   */
  void hardLimit(Job job);

  /**
   * {@code revoke(terminate=True)}: the job has been reported REVOKED; stop its body with
   * {@code signal} (a name such as SIGTERM, SIGKILL) where the runner can, else as at a hard limit.
   */
  default void terminate(Job job, String signal) {
    hardLimit(job);
  }

  /** Stops whatever still runs. */
  void close();
}

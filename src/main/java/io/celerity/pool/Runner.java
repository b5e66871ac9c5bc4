package io.celerity.pool;

import io.celerity.protocol.ExceptionInfo;

/**
 * Where task bodies run: pool threads, virtual threads, or child processes. The {@link TaskPool}
 * does the scheduling (slots, queue, time-limit timers, accounting) on its event loop; a runner
 * only starts bodies, reports how they ended, and acts on time limits.
 */
public interface Runner {

  /** How a body ended: a JSON-ready value, or the exception as Celery encodes it. */
  @FunctionalInterface
  interface Completion {
    /** May be called from any thread, exactly once per job. */
    void done(Object value, ExceptionInfo error);
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

  /** Stops whatever still runs. */
  void close();
}

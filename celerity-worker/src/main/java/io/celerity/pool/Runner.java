package io.celerity.pool;

import io.celerity.protocol.ExceptionInfo;
import io.celerity.task.Retry;
import io.vertx.core.Future;

/**
 * Where task bodies run: pool threads, virtual threads, or child processes. The {@link TaskPool}
 * does the scheduling (slots, queue, time-limit timers, accounting) on its event loop; a runner
 * only starts bodies, reports how they ended, and acts on time limits.
 */
public interface Runner {

  /** How a body ended. Each job gets exactly one call, from any thread. */
  interface Completion {
    /**
     * A runner with a {@link Runner#lookahead lookahead} claimed the job and its body starts now;
     * called from the runner's thread.
     */
    default void started() {}

    /**
     * A runner with a {@link Runner#lookahead lookahead} claimed the job, but its {@code expires}
     * passed while it waited for a free thread: the body is not run (Celery revokes it as expired).
     */
    void expired();

    /** The body returned a JSON-ready value, or raised the exception as Celery encodes it. */
    void done(Object value, ExceptionInfo error);

    /**
     * The task asked to be retried ({@code self.retry}, or autoretry); {@code error} is the reason
     * or null.
     */
    void retry(Retry retry, ExceptionInfo error);

    /**
     * A child ran the task through Celery's own tracer, which already stored {@code state} and did
     * the canvas and retry publishing: the worker only logs, counts, sends events and settles.
     *
     * @param value SUCCESS: the tracer's repr of the value; RETRY: {@code str(Retry)}
     * @param error the exception (FAILURE, RETRY's reason, Reject, Ignore), or null
     * @param runtime the tracer's runtime in seconds, or null for the pool's own measure
     * @param notStored why the child's backend could not store the task's state (unreachable after
     *     its retries), or null when it was stored
     * @param stores the final state the tracer handed over for the worker to write, or empty
     */
    default void traced(
        String state,
        Object value,
        ExceptionInfo error,
        Double runtime,
        ExceptionInfo notStored,
        java.util.List<io.celerity.backend.EncodedState> stores) {
      throw new UnsupportedOperationException("this pool does not take child-traced outcomes");
    }

    /**
     * The process running the body died (Celery's WorkerLostError): FAILURE, or the message is
     * requeued with acks_late and reject_on_worker_lost.
     */
    default void workerLost(ExceptionInfo error) {
      done(null, error);
    }
  }

  /**
   * Gets ready to run {@code concurrency} bodies at once (e.g. starts children); the pool waits for
   * it.
   */
  default Future<Void> warmUp(int concurrency) {
    return Future.succeededFuture();
  }

  /** The pool now has {@code concurrency} slots (autoscale, pool_grow, pool_shrink). */
  default void resize(int concurrency) {}

  /**
   * Whether a task wants its message requeued when its worker is lost (its own
   * reject_on_worker_lost).
   */
  default boolean rejectsOnWorkerLost(String taskName) {
    return false;
  }

  /**
   * How many jobs beyond its {@code concurrency} slots the runner holds to start by itself as soon
   * as a slot frees, without a round trip through the event loop (0: each job is started when
   * given). Such a runner claims each job ({@link Job#claim()}) before running it, skips jobs it
   * cannot claim (the pool cancelled them), and reports {@link Completion#started()}.
   */
  default int lookahead(int concurrency) {
    return 0;
  }

  /**
   * The pool takes back a job it handed over but could not claim, because the runner claimed it
   * without having started it yet (a task queued in a busy child); true when the runner will not
   * start it. Called on the pool's event loop.
   */
  default boolean unqueue(Job job) {
    return false;
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
   * {@code revoke(terminate=True)}: the job has been reported REVOKED; stop its body with {@code
   * signal} (a name such as SIGTERM, SIGKILL) where the runner can, else as at a hard limit.
   */
  default void terminate(Job job, String signal) {
    hardLimit(job);
  }

  /** Bodies given up (hard time limit, terminate) that still run on a thread of this runner. */
  default int abandoned() {
    return 0;
  }

  /** Stops whatever still runs. */
  void close();
}

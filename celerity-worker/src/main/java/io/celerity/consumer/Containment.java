package io.celerity.consumer;

import io.celerity.metrics.WorkerMetrics;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.TaskMessage;
import io.celerity.types.Delivery;
import io.celerity.types.Settle;
import io.celerity.types.TaskOutcome;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bug or an input we did not foresee, while handling one message: that message is rejected (never
 * requeued: it would fail the same way on every worker, for ever), FAILURE is stored when it has an
 * id, and the worker goes on consuming.
 */
final class Containment {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.strategy");

  private final Settler settler;
  private final PullCredit credit;
  private final WorkerMetrics metrics;
  private final Consumer<TaskOutcome> results;

  Containment(
      Settler settler, PullCredit credit, WorkerMetrics metrics, Consumer<TaskOutcome> results) {
    this.settler = settler;
    this.credit = credit;
    this.metrics = metrics;
    this.results = results;
  }

  /**
   * @param message the decoded message, or null when it failed before decoding
   */
  void contain(Delivery delivery, TaskMessage message, Throwable error) {
    String id = message != null ? message.id() : taskIdOf(delivery);
    log.error(
        "Task {}[{}]: handling its message failed; the message has been rejected",
        message != null
            ? message.task()
            : String.valueOf(delivery.headers() == null ? null : delivery.headers().get("task")),
        id,
        error);
    metrics.containedFailure();
    if (settler.settle(delivery, Settle.Action.REJECT)) {
      credit.notARequest();
    }
    if (message != null) {
      results.accept(TaskOutcome.failedBeforeRun(message, ExceptionInfo.from(error)));
    }
  }

  /** The task id in a delivery's headers (protocol 2), else its correlation id. */
  static String taskIdOf(Delivery delivery) {
    Object id = delivery.headers() == null ? null : delivery.headers().get("id");
    return id == null ? delivery.correlationId() : String.valueOf(id);
  }
}

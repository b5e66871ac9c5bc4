package io.celerity.consumer;

import io.celerity.config.WorkerOptions;
import io.celerity.protocol.InvalidTaskException;
import io.celerity.protocol.MessageDecoder;
import io.celerity.protocol.TaskMessage;
import io.celerity.protocol.UndecodableBodyException;
import io.celerity.task.TaskDefinition;
import io.celerity.task.TaskOptions;
import io.celerity.task.TaskRegistry;
import io.celerity.types.Delivery;
import io.celerity.types.Request;

/**
 * Decides what a delivery becomes (Celery's {@code worker.strategy}): a request to run, or one of
 * the outcomes Celery gives bad messages.
 */
public final class Strategy {

  /** The decision for one delivery. */
  public sealed interface Decision permits Run, Invalid, Undecodable, Unregistered {}

  /** A valid message of a registered task. */
  public record Run(Request request) implements Decision {}

  /** Not a valid task message or content type not accepted: reject without requeue. */
  public record Invalid(String reason) implements Decision {}

  /** Body cannot be decoded: ack (drop), as Celery does. */
  public record Undecodable(String reason) implements Decision {}

  /** A valid message naming a task we do not have: reject, and store FAILURE NotRegistered. */
  public record Unregistered(TaskMessage message) implements Decision {}

  private final MessageDecoder decoder;
  private final TaskRegistry registry;
  private final WorkerOptions options;
  private final String hostname;

  public Strategy(MessageDecoder decoder, TaskRegistry registry, WorkerOptions options) {
    this.decoder = decoder;
    this.registry = registry;
    this.options = options;
    this.hostname = options.getHostname();
  }

  public Decision decide(Delivery delivery) {
    TaskMessage msg;
    try {
      msg = decoder.decode(delivery);
    } catch (InvalidTaskException e) {
      return new Invalid(e.getMessage());
    } catch (UndecodableBodyException e) {
      return new Undecodable(e.getMessage());
    }
    TaskDefinition def = registry.get(msg.task());
    if (def == null) {
      return new Unregistered(msg);
    }
    return new Run(request(msg, delivery, def));
  }

  Request request(TaskMessage msg, Delivery delivery, TaskDefinition def) {
    TaskOptions o = def.options();
    boolean taskIgnores = Boolean.TRUE.equals(o.ignoreResult());
    // Per-message limits win over the task's, which win over the worker's (Celery's order).
    Double hard =
        msg.hardTimeLimit() != null
            ? msg.hardTimeLimit()
            : o.timeLimit() != null ? o.timeLimit() : options.getTimeLimit();
    Double soft =
        msg.softTimeLimit() != null
            ? msg.softTimeLimit()
            : o.softTimeLimit() != null ? o.softTimeLimit() : options.getSoftTimeLimit();
    return Request.builder(msg, delivery, def, hostname)
        .acksLate(o.acksLate() != null ? o.acksLate() : options.isAcksLate())
        .trackStarted(o.trackStarted() != null ? o.trackStarted() : options.isTrackStarted())
        .ignoreResult(taskIgnores || msg.ignoreResult(), taskIgnores)
        .timeLimits(hard, soft)
        .acksOnFailureOrTimeout(
            o.acksOnFailureOrTimeout() != null
                ? o.acksOnFailureOrTimeout()
                : options.isAcksOnFailureOrTimeout())
        .rejectOnWorkerLost(
            o.rejectOnWorkerLost() != null
                ? o.rejectOnWorkerLost()
                : options.isRejectOnWorkerLost())
        .storeErrorsEvenIfIgnored(Boolean.TRUE.equals(o.storeErrorsEvenIfIgnored()))
        .build();
  }
}

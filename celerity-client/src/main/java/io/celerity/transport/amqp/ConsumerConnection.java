package io.celerity.transport.amqp;

import io.celerity.transport.QueueDeclarationException;
import io.celerity.types.Delivery;
import io.vertx.core.Future;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The connection task messages arrive on, apart from the one the worker publishes on (Celery, too,
 * consumes on a connection of its own). Deliveries and acks are on the consumer's event loop.
 *
 * <p>Two implementations: {@link LoopConsumerConnection}, the default, reads and writes the socket
 * on the event loop itself; {@link ClientConsumerConnection} uses the RabbitMQ Java client, whose
 * reader thread hands each delivery over ({@code broker_transport_options = {"consumer_connection":
 * "client"}}).
 */
interface ConsumerConnection {

  String LOOP = "loop";
  String CLIENT = "client";

  /**
   * Where deliveries go, on the event loop. A delivery whose content header cannot be read (a
   * malformed field table) arrives as {@link #undecodable}: it still has to be settled.
   */
  interface Deliveries {
    void delivered(Delivery d);

    void undecodable(String queue, long deliveryTag, String why);
  }

  /** The first step of a declaration the broker refused, and its reply text. */
  record Refusal(int step, String replyText) {}

  boolean isOpen();

  /**
   * The prefetch window: shared by every consumer of the channel ({@code global}, Celery's classic
   * QoS), or per consumer, for consumers started after it (quorum queues refuse global QoS).
   */
  Future<Void> qos(int prefetch, boolean global);

  /**
   * Runs {@code steps} in order on a channel of its own (a refused declaration closes its channel).
   * Completes with null when all succeeded, or with the first refused step: the steps after it did
   * not run.
   */
  Future<Refusal> declare(List<AmqpQueues.Step> steps);

  /**
   * Starts consuming {@code queue} (manual acks); returns the consumer tag. {@code cancelled} runs
   * on the event loop if the broker cancels the consumer (the queue was deleted).
   */
  Future<String> consume(
      String queue, Deliveries deliveries, io.vertx.core.Handler<String> cancelled);

  Future<Void> cancel(List<String> consumerTags);

  /** basic.get without auto-ack; completes with null when the queue is empty. */
  Future<Delivery> get(String queue);

  /** Writes basic.ack on the calling thread, the event loop. */
  void ack(long deliveryTag, boolean multiple) throws IOException;

  void nack(long deliveryTag, boolean requeue) throws IOException;

  /** Writes these acks, in order. */
  default void ack(List<AckBatcher.AckOp> ops) throws IOException {
    for (AckBatcher.AckOp op : ops) {
      ack(op.tag(), op.multiple());
    }
  }

  /** Closes without reporting a loss; unacked deliveries go back to their queues. */
  Future<Void> close();

  /**
   * Declares a task queue (Celery's: a durable direct exchange named like the queue, the queue
   * bound with its name) and returns its type. A queue that exists with another type is, with
   * {@code detect}, declared again with that type (Celery's quorum detection); one that differs in
   * another argument is used as it is, with a warning.
   */
  default Future<String> declareTaskQueue(
      String queue, String type, Integer maxPriority, Map<String, Object> extra, boolean detect) {
    return declareTaskQueue(queue, type, maxPriority, extra, detect, 0);
  }

  private Future<String> declareTaskQueue(
      String queue,
      String type,
      Integer maxPriority,
      Map<String, Object> extra,
      boolean detect,
      int attempt) {
    Map<String, Object> args = AmqpQueues.taskQueueArguments(type, maxPriority, extra);
    return declare(AmqpQueues.taskQueue(queue, args))
        .compose(
            refused -> {
              if (refused == null) {
                return Future.succeededFuture(type);
              }
              AmqpQueues.Mismatch m = AmqpQueues.mismatch(refused.replyText());
              if (m == null || !detect || attempt >= 2) {
                return Future.failedFuture(
                    new QueueDeclarationException(
                        "declaring queue '"
                            + queue
                            + "' failed: "
                            + refused.replyText()
                            + (m != null && !detect
                                ? " (worker_detect_quorum_queues is off)"
                                : "")));
              }
              if ("x-queue-type".equals(m.argument())) {
                Log.LOG.warn(
                    "Queue '{}' exists as a {} queue; consuming it as one (configured: {})",
                    queue,
                    m.queueType(),
                    type);
                return declareTaskQueue(
                    queue, m.queueType(), maxPriority, extra, detect, attempt + 1);
              }
              Log.LOG.warn(
                  "Queue '{}' exists with other arguments ({}); using it as it is",
                  queue,
                  refused.replyText());
              return declare(AmqpQueues.existingTaskQueue(queue))
                  .compose(
                      passive ->
                          passive == null
                              ? Future.succeededFuture(type)
                              : Future.failedFuture(
                                  new QueueDeclarationException(
                                      "declaring queue '"
                                          + queue
                                          + "' failed: "
                                          + passive.replyText())));
            });
  }

  /**
   * Declares kombu's native delayed delivery topology with delay queues of {@code queueType}, and
   * binds {@code queues} (queue to routing key) to receive what comes out of it. Delay queues that
   * exist with other arguments (another type, declared by a Celery of other settings) are used as
   * they are.
   */
  default Future<Void> declareDelayedDelivery(String queueType, Map<String, String> queues) {
    List<AmqpQueues.Step> steps = new ArrayList<>(AmqpQueues.delayedDeliveryTopology(queueType));
    queues.forEach((q, key) -> steps.add(AmqpQueues.returnBinding(q, key)));
    return declareFrom(steps);
  }

  /** Runs {@code steps}, going on past delay queues that exist with other arguments. */
  private Future<Void> declareFrom(List<AmqpQueues.Step> steps) {
    return declare(steps)
        .compose(
            refused -> {
              if (refused == null) {
                return Future.succeededFuture();
              }
              AmqpQueues.Step step = steps.get(refused.step());
              if (step instanceof AmqpQueues.QueueDeclare qd
                  && AmqpQueues.mismatch(refused.replyText()) != null) {
                Log.LOG.warn(
                    "Delay queue '{}' exists with other arguments ({}); using it as it is",
                    qd.name(),
                    refused.replyText());
                return declareFrom(steps.subList(refused.step() + 1, steps.size()));
              }
              return Future.failedFuture(
                  new QueueDeclarationException(
                      "declaring the native delayed delivery topology failed at "
                          + step
                          + ": "
                          + refused.replyText()));
            });
  }

  /** The interface's logger: the transport's, as before the split. */
  final class Log {
    static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AmqpTransport.class);

    private Log() {}
  }
}

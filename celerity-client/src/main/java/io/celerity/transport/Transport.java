package io.celerity.transport;

import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Future;
import io.vertx.core.Handler;

/**
 * A broker connection as the consumer verticle uses it. Implementations keep themselves connected:
 * after a connection loss they reconnect with backoff, re-declare, re-apply the prefetch count and
 * restart every consumer before reporting themselves connected again.
 *
 * <p>All methods are called on, and all handlers are called back on, the event loop of the verticle
 * that started the transport.
 */
public interface Transport {

  /**
   * Connects, declares the queues and starts consuming into {@code handler}. Completes at the first
   * connection; while the broker cannot be reached the transport retries (Celery's {@code
   * broker_connection_retry_on_startup}, {@code broker_connection_max_retries}) and the future
   * fails only when it gives up. {@link #isConnected()} tells the state meanwhile.
   */
  Future<Void> start(Handler<Delivery> handler);

  /**
   * Consumes a fanout binding without acks (Celery's pidbox). Kept across reconnects like the task
   * consumers.
   */
  Future<Void> consumeFanout(FanoutBinding binding, Handler<Delivery> handler);

  /**
   * Declares a task queue as at start-up without consuming it, as a Celery client declares the
   * queue it publishes to (a message routed to a queue that does not exist is dropped by the
   * broker). Declared once per connection.
   */
  default Future<Void> declareQueue(String queue) {
    return Future.succeededFuture();
  }

  /**
   * Starts consuming one more task queue, declaring it as at start-up (remote control {@code
   * add_consumer}).
   */
  Future<Void> addQueue(String queue);

  /** Stops consuming a task queue (remote control {@code cancel_consumer}). */
  Future<Void> cancelQueue(String queue);

  /** The task queues consumed now. */
  java.util.List<String> queues();

  /**
   * Messages ready in a consumed queue, where the broker tells (Flower's {@code
   * /api/queues/length}).
   */
  default Future<Long> messageCount(String queue) {
    return Future.failedFuture(
        new UnsupportedOperationException("this broker does not report queue lengths"));
  }

  /**
   * Stops delivering new messages; unacked ones stay ours until acked, rejected or the connection
   * closes.
   */
  Future<Void> stopConsuming();

  /**
   * Pull mode ({@code disable_prefetch}), chosen before {@link #start}: a message is taken from the
   * broker only against credit given with {@link #grant}, one credit per free pool slot, so no
   * message ever waits in this worker while another worker could run it.
   */
  void pullOnly();

  /** Gives pull-mode credit: this many more messages may be taken. */
  void grant(int credit);

  /** Starts delivering again after {@link #stopConsuming()}. */
  Future<Void> resumeConsuming();

  /** Changes the prefetch count (Celery raises it for every ETA task it holds). */
  Future<Void> prefetch(int count);

  /**
   * Whether ETA messages of {@code queue} can wait in the broker instead of unacked in this worker
   * (RabbitMQ's native delayed delivery, on quorum queues as Celery 5.5 or on every queue when
   * configured): then they are handed back with {@link #delay} and acked.
   */
  default boolean canDelay(String queue) {
    return false;
  }

  /**
   * Sends a copy of {@code delivery} to wait {@code seconds} in the broker and come back to its
   * queue; completes when the broker has it, so the original may be acked.
   */
  default Future<Void> delay(Delivery delivery, long seconds) {
    return Future.failedFuture("this transport cannot delay messages in the broker");
  }

  /**
   * Acks a delivery. Acks for a delivery of an earlier connection are dropped: the broker already
   * requeued it.
   */
  void ack(Delivery delivery);

  /** Rejects a delivery, requeueing it or not. */
  void reject(Delivery delivery, boolean requeue);

  /**
   * Publishes a message; completes when the broker confirmed it where the transport supports
   * confirms. Before the first connection the publish waits for it; after a loss it fails at once.
   */
  Future<Void> publish(OutgoingMessage message);

  /**
   * Called with the generation of a connection that was lost. Its unacked deliveries are back in
   * the broker's queues and will be delivered again: whoever still holds them must drop them.
   */
  void connectionLostHandler(Handler<Long> handler);

  /** True while a connection is up and consumers are running. */
  boolean isConnected();

  /** Connections re-established after a loss since start. */
  long reconnects();

  /**
   * Sends what settlements are still buffered (acks batched for the end of an event-loop turn)
   * before a clean {@link #close()}, so finished work is not redelivered.
   */
  default Future<Void> flush() {
    return Future.succeededFuture();
  }

  /** Closes the connection; unacked deliveries go back to their queues. */
  Future<Void> close();
}

package io.celerity.consumer;

import io.celerity.transport.FanoutBinding;
import io.celerity.transport.Transport;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.ArrayList;
import java.util.List;

/**
 * A transport that records what the consumer tells the broker: settlements, prefetch counts, pull
 * credit.
 */
final class RecordingTransport implements Transport {

  /** "ack 7", "reject 7", "requeue 7": one line per settlement, by delivery tag. */
  final List<String> settled = new ArrayList<>();

  /** Every prefetch count applied, in order. */
  final List<Integer> prefetches = new ArrayList<>();

  int credit;

  @Override
  public Future<Void> start(Handler<Delivery> handler) {
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> consumeFanout(FanoutBinding binding, Handler<Delivery> handler) {
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> addQueue(String queue) {
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> cancelQueue(String queue) {
    return Future.succeededFuture();
  }

  @Override
  public List<String> queues() {
    return List.of();
  }

  @Override
  public Future<Void> stopConsuming() {
    return Future.succeededFuture();
  }

  @Override
  public void pullOnly() {}

  @Override
  public void grant(int n) {
    credit += n;
  }

  @Override
  public Future<Void> resumeConsuming() {
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> prefetch(int count) {
    prefetches.add(count);
    return Future.succeededFuture();
  }

  @Override
  public void ack(Delivery delivery) {
    settled.add("ack " + delivery.deliveryTag());
  }

  @Override
  public void reject(Delivery delivery, boolean requeue) {
    settled.add((requeue ? "requeue " : "reject ") + delivery.deliveryTag());
  }

  @Override
  public Future<Void> publish(OutgoingMessage message) {
    return Future.succeededFuture();
  }

  @Override
  public void connectionLostHandler(Handler<Long> handler) {}

  @Override
  public boolean isConnected() {
    return true;
  }

  @Override
  public long reconnects() {
    return 0;
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }
}

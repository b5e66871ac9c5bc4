package io.celerity.consumer;

import io.celerity.transport.Transport;
import io.celerity.types.Delivery;
import io.celerity.types.Settle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every ack and reject goes through here: at most once per delivery, so a late or repeated settle
 * (a failure handler after a normal path, a request of a lost connection) can never close the
 * channel with an unknown delivery tag. Event-loop confined.
 */
final class Settler {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.strategy");

  private final Unsettled unsettled;
  private final Transport transport;

  Settler(Unsettled unsettled, Transport transport) {
    this.unsettled = unsettled;
    this.transport = transport;
  }

  void settle(Settle s) {
    settle(s.delivery(), s.action());
  }

  /**
   * @return whether the delivery was still unsettled
   */
  boolean settle(Delivery delivery, Settle.Action action) {
    if (!unsettled.settle(delivery)) {
      log.debug(
          "Delivery {} (generation {}) already settled or forgotten; {} dropped",
          delivery.deliveryTag(),
          delivery.generation(),
          action);
      return false;
    }
    switch (action) {
      case ACK -> transport.ack(delivery);
      case REJECT -> transport.reject(delivery, false);
      case REQUEUE -> transport.reject(delivery, true);
    }
    return true;
  }
}

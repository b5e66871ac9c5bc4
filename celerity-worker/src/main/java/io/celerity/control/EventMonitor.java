package io.celerity.control;

import io.celerity.Addresses;
import io.celerity.events.ClusterState;
import io.celerity.protocol.Json;
import io.celerity.transport.FanoutBinding;
import io.celerity.transport.FanoutSubscription;
import io.celerity.types.Delivery;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Celery's event receiver, as Flower runs one: a queue of its own bound to the {@code celeryev}
 * exchange with {@code #}, so every worker on the broker (Python or Java, ours included) is seen
 * through its worker and task events. Feeds a {@link ClusterState} on the control verticle's event
 * loop.
 */
final class EventMonitor {

  private static final Logger log = LoggerFactory.getLogger("celery.events.monitor");

  /**
   * Celery's {@code event_queue_ttl} (5 s) and {@code event_queue_expires} (60 s), in milliseconds.
   */
  private static final Map<String, Object> QUEUE_ARGUMENTS =
      Map.of("x-message-ttl", 5_000, "x-expires", 60_000);

  private final ClusterState state;

  EventMonitor(ClusterState state) {
    this.state = state;
  }

  ClusterState state() {
    return state;
  }

  /**
   * Binds the receiver queue; events then flow into the state. Call on the control verticle's loop.
   */
  Future<Void> start(Vertx vertx) {
    vertx.eventBus().<Delivery>consumer(Addresses.CONTROL_EVENTS, m -> onDelivery(m.body()));
    FanoutBinding binding =
        new FanoutBinding("celeryev", "celeryev." + UUID.randomUUID(), "#", QUEUE_ARGUMENTS);
    return vertx
        .eventBus()
        .request(
            Addresses.CONSUMER_FANOUT, new FanoutSubscription(binding, Addresses.CONTROL_EVENTS))
        .mapEmpty();
  }

  @SuppressWarnings("unchecked")
  void onDelivery(Delivery d) {
    double now = System.currentTimeMillis() / 1000.0;
    try {
      Object body = Json.parse(d.body());
      if (body instanceof List<?> batch) { // task.multi: a worker's buffered task events
        for (Object e : batch) {
          if (e instanceof Map<?, ?> event) {
            state.event((Map<String, Object>) event, now);
          }
        }
      } else if (body instanceof Map<?, ?> event) {
        state.event((Map<String, Object>) event, now);
      }
    } catch (Exception e) {
      log.debug("Ignoring an event that is not JSON ({}): {}", d.routingKey(), e.getMessage());
    }
  }
}

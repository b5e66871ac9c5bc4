package io.celerity.transport.memory;

import io.celerity.config.Urls;
import io.celerity.transport.FanoutBinding;
import io.celerity.transport.PullSupport;
import io.celerity.transport.Transport;
import io.celerity.transport.TransportOptions;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@link Transport} over a {@link MemoryBroker}: for the demo and unit tests only. */
public class MemoryTransport extends PullSupport {

  private final Vertx vertx;
  private final TransportOptions options;
  private final MemoryBroker broker;
  private final Map<Long, Held> unacked = new HashMap<>();
  private final Runnable listener = this::scheduleDrain;
  private final List<String> queues;
  private final Map<String, java.util.function.Consumer<OutgoingMessage>> subscriptions =
      new HashMap<>();
  private Context context;
  private Handler<Delivery> handler;
  private int prefetch;
  private long nextTag = 1;
  private int nextQueue;
  private boolean consuming;
  private boolean drainScheduled;

  private record Held(String queue, OutgoingMessage message) {}

  public MemoryTransport(Vertx vertx, TransportOptions options) {
    this.vertx = vertx;
    this.options = options;
    String name = Urls.authority(options.url());
    this.broker = MemoryBroker.named(name.isEmpty() ? "default" : name);
    this.prefetch = options.prefetch();
    this.queues = new java.util.concurrent.CopyOnWriteArrayList<>(options.queues());
  }

  public MemoryBroker broker() {
    return broker;
  }

  @Override
  public Future<Void> start(Handler<Delivery> handler) {
    this.context = vertx.getOrCreateContext();
    this.handler = handler;
    queues.forEach(broker::declare);
    consuming = true;
    broker.listen(listener);
    scheduleDrain();
    return Future.succeededFuture();
  }

  private void scheduleDrain() {
    Context ctx = context;
    if (ctx == null) {
      return;
    }
    ctx.runOnContext(
        v -> {
          if (!drainScheduled) {
            drainScheduled = true;
            drain();
          }
        });
  }

  private void drain() {
    drainScheduled = false;
    int n = queues.size();
    int idle = 0;
    while (consuming
        && n > 0
        && (pull ? credit > 0 : prefetch == 0 || unacked.size() < prefetch)
        && idle < n) {
      String queue = queues.get(nextQueue++ % n);
      OutgoingMessage m = broker.poll(queue);
      if (m == null) {
        idle++;
        continue;
      }
      idle = 0;
      if (pull) {
        credit--;
      }
      long tag = nextTag++;
      unacked.put(tag, new Held(queue, m));
      Map<String, Object> props = m.properties() == null ? Map.of() : m.properties();
      handler.handle(toDelivery(m, queue, tag));
    }
  }

  private static Delivery toDelivery(OutgoingMessage m, String queue, long tag) {
    Map<String, Object> props = m.properties() == null ? Map.of() : m.properties();
    return new Delivery(
        m.body(),
        m.contentType(),
        m.contentEncoding(),
        m.headers() == null ? new HashMap<>() : new HashMap<>(m.headers()),
        (String) props.get("correlation_id"),
        (String) props.get("reply_to"),
        props.get("priority") instanceof Number p ? p.intValue() : null,
        m.exchange(),
        m.routingKey(),
        queue,
        false,
        tag,
        0);
  }

  @Override
  public Future<Void> consumeFanout(FanoutBinding binding, Handler<Delivery> h) {
    Context ctx = vertx.getOrCreateContext();
    java.util.function.Consumer<OutgoingMessage> s =
        m -> ctx.runOnContext(v -> h.handle(toDelivery(m, binding.queue(), -1)));
    subscriptions.put(binding.exchange(), s);
    broker.subscribe(binding.exchange(), s);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> addQueue(String queue) {
    if (!queues.contains(queue)) {
      broker.declare(queue);
      queues.add(queue);
      scheduleDrain();
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> cancelQueue(String queue) {
    queues.remove(queue);
    return Future.succeededFuture();
  }

  @Override
  public List<String> queues() {
    return java.util.Collections.unmodifiableList(queues);
  }

  @Override
  public Future<Void> stopConsuming() {
    consuming = false;
    broker.unlisten(listener);
    return Future.succeededFuture();
  }

  @Override
  protected void creditGranted() {
    scheduleDrain();
  }

  @Override
  public Future<Void> resumeConsuming() {
    if (!consuming) {
      consuming = true;
      broker.listen(listener);
      scheduleDrain();
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> prefetch(int count) {
    prefetch = count;
    scheduleDrain();
    return Future.succeededFuture();
  }

  @Override
  public void ack(Delivery delivery) {
    unacked.remove((Long) delivery.deliveryTag());
    scheduleDrain();
  }

  @Override
  public void reject(Delivery delivery, boolean requeue) {
    Held h = unacked.remove((Long) delivery.deliveryTag());
    if (h != null && requeue) {
      broker.requeue(h.queue(), h.message());
    }
    scheduleDrain();
  }

  @Override
  public Future<Void> publish(OutgoingMessage message) {
    broker.publish(message);
    return Future.succeededFuture();
  }

  @Override
  public void connectionLostHandler(Handler<Long> handler) {
    // an in-JVM broker connection is never lost
  }

  @Override
  public boolean isConnected() {
    return consuming;
  }

  @Override
  public long reconnects() {
    return 0;
  }

  @Override
  public Future<Void> close() {
    stopConsuming();
    subscriptions.forEach(broker::unsubscribe);
    subscriptions.clear();
    unacked.values().forEach(h -> broker.requeue(h.queue(), h.message()));
    unacked.clear();
    return Future.succeededFuture();
  }
}

package io.celerity.transport.memory;

import io.celerity.types.OutgoingMessage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-JVM broker for the zero-setup demo and unit tests: named queues, publishing through the
 * default exchange (routing key = queue name), consumers with prefetch, ack and requeue. It is not
 * a model of any real broker's behaviour and no broker behaviour is tested against it.
 */
public final class MemoryBroker {

  private static final Map<String, MemoryBroker> BROKERS = new ConcurrentHashMap<>();

  private final Map<String, Deque<OutgoingMessage>> queues = new HashMap<>();
  private final List<Runnable> listeners = new ArrayList<>();
  private final Map<String, List<java.util.function.Consumer<OutgoingMessage>>> fanouts =
      new HashMap<>();

  /** The broker named by a {@code memory://name} URL; one per name and JVM. */
  public static MemoryBroker named(String name) {
    return BROKERS.computeIfAbsent(name, n -> new MemoryBroker());
  }

  public synchronized void declare(String queue) {
    queues.computeIfAbsent(queue, q -> new ArrayDeque<>());
  }

  public void publish(OutgoingMessage message) {
    String exchange = message.exchange() == null ? "" : message.exchange();
    List<java.util.function.Consumer<OutgoingMessage>> subscribers;
    synchronized (this) {
      subscribers = fanouts.containsKey(exchange) ? new ArrayList<>(fanouts.get(exchange)) : null;
    }
    if (subscribers != null) {
      subscribers.forEach(s -> s.accept(message));
      return;
    }
    // Celery's topology: tasks go through the default exchange or a direct exchange named like the
    // queue.
    String queue = exchange.isEmpty() ? message.routingKey() : exchange;
    List<Runnable> toNotify;
    synchronized (this) {
      Deque<OutgoingMessage> q = queues.get(queue);
      if (q == null) {
        return; // like the default exchange with no such queue: dropped
      }
      q.addLast(message);
      toNotify = new ArrayList<>(listeners);
    }
    toNotify.forEach(Runnable::run);
  }

  synchronized OutgoingMessage poll(String queue) {
    Deque<OutgoingMessage> q = queues.get(queue);
    return q == null ? null : q.pollFirst();
  }

  void requeue(String queue, OutgoingMessage message) {
    List<Runnable> toNotify;
    synchronized (this) {
      queues.computeIfAbsent(queue, k -> new ArrayDeque<>()).addFirst(message);
      toNotify = new ArrayList<>(listeners);
    }
    toNotify.forEach(Runnable::run);
  }

  public synchronized int size(String queue) {
    Deque<OutgoingMessage> q = queues.get(queue);
    return q == null ? 0 : q.size();
  }

  /**
   * Subscribes to a fanout exchange: every message published to it is handed to {@code subscriber}.
   */
  synchronized void subscribe(
      String exchange, java.util.function.Consumer<OutgoingMessage> subscriber) {
    fanouts.computeIfAbsent(exchange, e -> new ArrayList<>()).add(subscriber);
  }

  synchronized void unsubscribe(
      String exchange, java.util.function.Consumer<OutgoingMessage> subscriber) {
    List<java.util.function.Consumer<OutgoingMessage>> l = fanouts.get(exchange);
    if (l != null) {
      l.remove(subscriber);
    }
  }

  synchronized void listen(Runnable onMessage) {
    listeners.add(onMessage);
  }

  synchronized void unlisten(Runnable onMessage) {
    listeners.remove(onMessage);
  }
}

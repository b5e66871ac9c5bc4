package io.celerity.consumer;

import io.celerity.types.Delivery;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every delivery the consumer received and has not yet acked or rejected, with where it is.
 * Settling goes through here, so a delivery is settled at most once (a second ack or reject of one
 * AMQP tag would close the channel and cost every reserved message a redelivery), and a failure
 * handler can settle a delivery that nothing else did. The watchdog reads it to find deliveries
 * that stay unsettled for no reason. Event-loop confined.
 */
final class Unsettled {

  /** Where a delivery is, as far as the consumer knows. */
  enum Stage {
    /** Received, being decided. */
    RECEIVED,
    /** Held in the consumer: ETA timer or rate-limit bucket. */
    HELD,
    /** Handed to the pool (reserved, running, or its result being written). */
    DISPATCHED
  }

  /**
   * One delivery's entry; {@code copies} counts deliveries sharing a tag (a Redis message pushed
   * twice).
   */
  static final class Entry {
    final String taskId;
    final long receivedMillis;
    Stage stage = Stage.RECEIVED;
    int copies = 1;

    Entry(String taskId, long receivedMillis) {
      this.taskId = taskId;
      this.receivedMillis = receivedMillis;
    }
  }

  private record Key(long generation, Object tag) {}

  private final Map<Key, Entry> entries = new HashMap<>();

  private static Key key(Delivery d) {
    return new Key(d.generation(), d.deliveryTag());
  }

  void received(Delivery d, String taskId, long nowMillis) {
    Entry e = entries.putIfAbsent(key(d), new Entry(taskId, nowMillis));
    if (e != null) {
      e.copies++;
    }
  }

  void stage(Delivery d, Stage stage) {
    Entry e = entries.get(key(d));
    if (e != null) {
      e.stage = stage;
    }
  }

  /** Whether the delivery was still unsettled; it no longer is after this call. */
  boolean settle(Delivery d) {
    Key k = key(d);
    Entry e = entries.get(k);
    if (e == null) {
      return false;
    }
    if (--e.copies == 0) {
      entries.remove(k);
    }
    return true;
  }

  boolean contains(Delivery d) {
    return entries.containsKey(key(d));
  }

  /** Drops the entries of a lost connection: the broker has them back. */
  void forgetGeneration(long generation) {
    entries.keySet().removeIf(k -> k.generation() <= generation);
  }

  int size() {
    return entries.size();
  }

  /** Entries received before {@code olderThanMillis} in the given stage. */
  List<Entry> older(long olderThanMillis, Stage stage) {
    List<Entry> out = new ArrayList<>();
    for (Entry e : entries.values()) {
      if (e.stage == stage && e.receivedMillis < olderThanMillis) {
        out.add(e);
      }
    }
    return out;
  }
}

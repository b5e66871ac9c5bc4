package io.celerity.transport.amqp;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Coalesces acks of one channel: a run of acked tags starting at the oldest unsettled delivery
 * becomes one {@code basic.ack(multiple=true)}. The transport collects the acks of one event-loop
 * task and sends them together at its end. Not thread-safe: used on the transport's event loop
 * only.
 */
final class AckBatcher {

  /** One {@code basic.ack} to send. */
  record AckOp(long tag, boolean multiple) {}

  private final TreeSet<Long> unsettled = new TreeSet<>();
  private final Set<Long> pending = new HashSet<>();

  void delivered(long tag) {
    unsettled.add(tag);
  }

  /** Marks a tag to ack; returns false if it is not an unsettled delivery of this channel. */
  boolean ack(long tag) {
    if (!unsettled.contains(tag)) {
      return false;
    }
    pending.add(tag);
    return true;
  }

  /** Removes a tag settled otherwise (rejected); returns false if it was not unsettled. */
  boolean settle(long tag) {
    pending.remove(tag);
    return unsettled.remove(tag);
  }

  boolean hasPending() {
    return !pending.isEmpty();
  }

  int unsettledCount() {
    return unsettled.size();
  }

  /** The acks to send now for everything pending, and forgets those tags. */
  List<AckOp> drain() {
    List<AckOp> ops = new ArrayList<>();
    if (pending.isEmpty()) {
      return ops;
    }
    long lastOfRun = -1;
    int run = 0;
    Iterator<Long> it = unsettled.iterator();
    while (it.hasNext()) {
      long tag = it.next();
      if (!pending.remove(tag)) {
        break;
      }
      it.remove();
      lastOfRun = tag;
      run++;
    }
    if (run > 0) {
      ops.add(new AckOp(lastOfRun, run > 1));
    }
    for (Long tag : pending) {
      unsettled.remove(tag);
      ops.add(new AckOp(tag, false));
    }
    pending.clear();
    return ops;
  }

  void reset() {
    unsettled.clear();
    pending.clear();
  }
}

package io.celerity.transport;

import io.vertx.core.Context;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Carries work from other threads (pool threads, the AMQP reader thread) to one event loop in
 * batches: whatever is posted while one drain is pending runs in that drain, so a busy loop gets
 * one task (and at most one wake-up) for many posts. Posts from one thread run in the order they
 * were made.
 */
public final class LoopMailbox {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LoopMailbox.class);

  private final Context context;
  private final ConcurrentLinkedQueue<Runnable> reports = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean drainPending = new AtomicBoolean();

  public LoopMailbox(Context context) {
    this.context = context;
  }

  public void post(Runnable report) {
    reports.add(report);
    if (drainPending.compareAndSet(false, true)) {
      context.runOnContext(v -> drain());
    }
  }

  private void drain() {
    // Cleared first: a report posted while we drain either gets run below or schedules a new drain.
    drainPending.set(false);
    Runnable r;
    while ((r = reports.poll()) != null) {
      try {
        r.run();
      } catch (RuntimeException e) {
        log.error("Event-loop task failed", e); // the others in the batch still run
      }
    }
  }
}

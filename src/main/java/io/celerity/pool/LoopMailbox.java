package io.celerity.pool;

import io.vertx.core.Context;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Carries reports from pool threads to the pool's event loop in batches: whatever pool threads post
 * while one drain is pending runs in that drain, so a busy loop gets one task (and at most one
 * wake-up) for many reports. Reports from one thread run in the order they were posted.
 */
final class LoopMailbox {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("celery.pool");

  private final Context context;
  private final ConcurrentLinkedQueue<Runnable> reports = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean drainPending = new AtomicBoolean();

  LoopMailbox(Context context) {
    this.context = context;
  }

  void post(Runnable report) {
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
        log.error("Pool report failed", e); // the others in the batch still run
      }
    }
  }
}

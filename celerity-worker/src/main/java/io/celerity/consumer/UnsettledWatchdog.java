package io.celerity.consumer;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds deliveries lost inside the worker: unsettled past the deadline, yet neither held by the
 * consumer (ETA, rate limit) nor known to the pool (reserved, running). Such a delivery holds a
 * prefetch slot for good; each round logs them with their task ids and reports how many there are
 * (a metric, and {@code /ready}). Event-loop confined; the clock and the pool are given, so it is
 * tested without a broker.
 */
final class UnsettledWatchdog {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.consumer");
  private static final int MAX_LOGGED = 20;

  private final Unsettled unsettled;
  private final long deadlineMillis;
  private final LongSupplier clock;
  private final Supplier<Future<Set<String>>> poolTaskIds;
  private final IntConsumer report;
  private int stuck;

  /**
   * @param poolTaskIds the ids of the requests the pool holds (reserved or running)
   * @param report called with the count after each round
   */
  UnsettledWatchdog(
      Unsettled unsettled,
      long deadlineMillis,
      LongSupplier clock,
      Supplier<Future<Set<String>>> poolTaskIds,
      IntConsumer report) {
    this.unsettled = unsettled;
    this.deadlineMillis = deadlineMillis;
    this.clock = clock;
    this.poolTaskIds = poolTaskIds;
    this.report = report;
  }

  /** One round; the future completes with the number of stuck deliveries found. */
  Future<Integer> check() {
    long now = clock.getAsLong();
    long cutoff = now - deadlineMillis;
    List<Unsettled.Entry> candidates =
        new ArrayList<>(unsettled.older(cutoff, Unsettled.Stage.RECEIVED));
    List<Unsettled.Entry> dispatched = unsettled.older(cutoff, Unsettled.Stage.DISPATCHED);
    if (dispatched.isEmpty()) {
      return Future.succeededFuture(found(candidates, now));
    }
    // the pool not answering is no evidence: keep the last count and try again next round
    return poolTaskIds
        .get()
        .map(
            known -> {
              dispatched.stream().filter(e -> !known.contains(e.taskId)).forEach(candidates::add);
              return found(candidates, now);
            })
        .otherwise(stuck);
  }

  private int found(List<Unsettled.Entry> entries, long now) {
    for (Unsettled.Entry e : entries.subList(0, Math.min(entries.size(), MAX_LOGGED))) {
      log.error(
          "Task [{}] received {} s ago is still unsettled and no part of the worker holds it",
          e.taskId,
          (now - e.receivedMillis) / 1000);
    }
    stuck = entries.size();
    report.accept(stuck);
    return stuck;
  }

  /** Stuck deliveries found in the last round. */
  int stuck() {
    return stuck;
  }
}

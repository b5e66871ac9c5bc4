package io.celerity.consumer;

import java.util.function.IntConsumer;

/**
 * The prefetch count the broker is told (Celery's consumer {@code qos}): the configured count,
 * raised by one for each request held unacked in the consumer so held requests do not starve the
 * pool. Event-loop confined.
 */
final class Qos {

  /** AMQP's prefetch count is 16 bits (kombu's {@code PREFETCH_COUNT_MAX}). */
  static final int MAX_PREFETCH = 65_535;

  private final int prefetch;
  private final Integer etaTaskLimit;
  private final IntConsumer apply;
  private int applied;

  /**
   * The configured prefetch count (0: unlimited), grown by the async slots when async tasks are
   * registered: they are not pool slots, and each needs a message to start.
   */
  static int configured(io.celerity.config.WorkerOptions options, boolean asyncTasks) {
    int base = options.getPrefetchCount();
    return base == 0 ? 0 : Math.min(MAX_PREFETCH, base + options.getAsyncPrefetch(asyncTasks));
  }

  /**
   * @param prefetch the configured prefetch count (0: unlimited)
   * @param etaTaskLimit {@code worker_eta_task_limit}: the most the count is raised by, or null
   * @param apply tells the broker a new count
   */
  Qos(int prefetch, Integer etaTaskLimit, IntConsumer apply) {
    this.prefetch = prefetch;
    this.etaTaskLimit = etaTaskLimit;
    this.apply = apply;
    this.applied = prefetch;
  }

  /**
   * Re-applies the count for what is held now; the broker is told only when it changes.
   *
   * @param etaBonus what the ETA timer asks for its held requests
   * @param rateLimited requests waiting for a rate-limit token
   */
  void update(int etaBonus, int rateLimited) {
    if (prefetch == 0) {
      return; // unlimited already
    }
    // Rate-limited requests raise the window by at most one prefetch's worth: a backlog of one
    // slow task type must not pull the whole queue into memory.
    int bonus = etaBonus + Math.min(rateLimited, prefetch);
    int wanted = prefetch + (etaTaskLimit == null ? bonus : Math.min(bonus, etaTaskLimit));
    if (wanted > MAX_PREFETCH) {
      // As kombu's QoS: past AMQP's 16 bits the limit is lifted (0), not capped. A cap would fill
      // the window with held ETA tasks and stop every delivery until one comes due.
      wanted = 0;
    }
    if (wanted != applied) {
      applied = wanted;
      apply.accept(wanted);
    }
  }

  /** The count the broker was last told. */
  int applied() {
    return applied;
  }
}

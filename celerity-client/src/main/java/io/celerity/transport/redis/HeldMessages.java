package io.celerity.transport.redis;

import io.celerity.types.Delivery;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The messages this worker holds on Redis (recorded in {@code unacked}, not yet settled) and their
 * keeping: fresh scores every {@code visibility_timeout / 4} so that no one restores them while we
 * are alive, kombu's restore of other consumers' expired messages, and settlements (ack, reject,
 * requeue) that are retried until Redis took them, so a settlement lost with a killed connection
 * never leaves a record behind.
 *
 * <p>The {@code epoch} is the generation deliveries carry: it changes only when we give up what we
 * hold (some of it was restored by someone else), not on every reconnect, because a lost connection
 * does not lose what we hold. Event-loop confined.
 */
final class HeldMessages {

  private static final Logger log = LoggerFactory.getLogger(RedisTransport.class);

  /** Delay before a failed settlement is tried again. */
  static final long RETRY_MS = 500;

  private enum Settlement {
    REMOVE,
    REQUEUE,
    GIVE_BACK
  }

  private final Vertx vertx;
  private final UnackedStore store;
  private final double visibilityTimeout;
  private final LongConsumer gaveUp;
  private final Map<String, Delivery> held = new LinkedHashMap<>();

  /** Settlements Redis did not take (connection killed), retried every {@link #RETRY_MS}. */
  private final Map<String, Settlement> retrying = new LinkedHashMap<>();

  private final Set<Future<?>> inFlight = new HashSet<>();
  private long epoch = 1;
  private long freshTimer = -1;
  private long restoreTimer = -1;
  private long retryTimer = -1;
  private boolean closed;

  /**
   * @param gaveUp called with the old epoch when we give up what we hold: the consumer drops it
   */
  HeldMessages(Vertx vertx, UnackedStore store, double visibilityTimeout, LongConsumer gaveUp) {
    this.vertx = vertx;
    this.store = store;
    this.visibilityTimeout = visibilityTimeout;
    this.gaveUp = gaveUp;
  }

  /** Starts keeping fresh and restoring (after the first connection). */
  void startTimers(java.util.function.BooleanSupplier connected) {
    long freshMs = Math.max(100, (long) (visibilityTimeout * 1000 / 4));
    freshTimer =
        vertx.setPeriodic(
            freshMs,
            id -> {
              if (connected.getAsBoolean()) {
                keepFresh();
              }
            });
    // kombu checks at start and then about every 100 s; a short visibility timeout is checked more
    // often.
    long restoreMs = Math.max(1000, Math.min(60_000, (long) (visibilityTimeout * 1000)));
    restoreTimer =
        vertx.setPeriodic(
            restoreMs,
            id -> {
              if (connected.getAsBoolean()) {
                restoreExpired();
              }
            });
    restoreExpired();
  }

  long epoch() {
    return epoch;
  }

  int size() {
    return held.size();
  }

  Set<String> tags() {
    return Set.copyOf(held.keySet());
  }

  void hold(Delivery d) {
    held.put((String) d.deliveryTag(), d);
  }

  /**
   * Forgets a delivery we hold; false when it is not ours (fanout, other epoch, already settled).
   */
  boolean release(Delivery d) {
    if (d.deliveryTag() == null
        || d.generation() != epoch
        || held.remove((String) d.deliveryTag()) == null) {
      log.debug(
          "Dropping settlement of delivery {} from generation {}: not held any more",
          d.deliveryTag(),
          d.generation());
      return false;
    }
    return true;
  }

  /** Ack, or reject without requeue: the record goes. */
  void remove(String tag) {
    settle(tag, Settlement.REMOVE);
  }

  /** Reject with requeue: back to the end of its queue. */
  void requeue(String tag) {
    settle(tag, Settlement.REQUEUE);
  }

  /**
   * A message recorded as ours that we will not run (stopped meanwhile): back to the front of its
   * queue.
   */
  void giveBack(String tag) {
    settle(tag, Settlement.GIVE_BACK);
  }

  private void settle(String tag, Settlement how) {
    Future<?> f =
        switch (how) {
          case REMOVE -> store.remove(tag);
          case REQUEUE -> store.restore(tag, false);
          case GIVE_BACK -> store.restore(tag, true);
        };
    track(f)
        .onFailure(
            err -> {
              log.warn(
                  "{} of {} failed ({}); retrying",
                  how == Settlement.REMOVE ? "Ack" : "Requeue",
                  tag,
                  err.getMessage());
              retrying.put(tag, how);
              armRetry();
            });
  }

  private void armRetry() {
    if (retryTimer < 0 && !closed) {
      retryTimer =
          vertx.setTimer(
              RETRY_MS,
              id -> {
                retryTimer = -1;
                retryNow();
              });
    }
  }

  /** Tries the failed settlements again (also right after a reconnect). */
  void retryNow() {
    Map<String, Settlement> again = new LinkedHashMap<>(retrying);
    retrying.clear();
    again.forEach(this::settle);
  }

  private <T> Future<T> track(Future<T> f) {
    inFlight.add(f);
    return f.onComplete(ar -> inFlight.remove(f));
  }

  /**
   * Completes when the settlements in flight and those waiting for a retry are done (or failed for
   * good).
   */
  Future<Void> whenSettled() {
    retryNow();
    return Future.join(new ArrayList<>(inFlight)).otherwiseEmpty().mapEmpty();
  }

  /**
   * Checks, after a reconnect, that everything we hold is still ours; gives it all up when someone
   * restored part of it meanwhile (we were cut off longer than the visibility timeout).
   */
  Future<Void> verify() {
    Set<String> ours = tags();
    return store
        .refresh(ours)
        .map(
            found -> {
              Set<String> missing = new HashSet<>(found);
              missing.retainAll(held.keySet()); // settled meanwhile: not missing
              if (!missing.isEmpty()) {
                giveUp(missing);
              }
              return null;
            });
  }

  private void keepFresh() {
    retryNow();
    long e = epoch;
    store
        .refresh(held.keySet())
        .onSuccess(
            found -> {
              Set<String> missing = new HashSet<>(found);
              missing.retainAll(held.keySet());
              if (!missing.isEmpty() && e == epoch) {
                giveUp(missing);
              }
            })
        .onFailure(
            err ->
                log.warn(
                    "Could not keep our {} held messages fresh: {}",
                    held.size(),
                    err.getMessage()));
  }

  /**
   * Some messages we hold were restored by another consumer: they will run elsewhere. The consumer
   * drops everything of this epoch, so the rest of what we hold goes back to the queues too.
   */
  private void giveUp(Set<String> missing) {
    long old = epoch++;
    List<String> ours = new ArrayList<>(held.keySet());
    ours.removeAll(missing);
    log.warn(
        "{} held messages were restored by another consumer after more than {}s; giving up the {} we hold",
        missing.size(),
        visibilityTimeout,
        held.size());
    held.clear();
    for (String tag : ours) {
      giveBack(tag);
    }
    gaveUp.accept(old);
  }

  private void restoreExpired() {
    store
        .restoreExpired(visibilityTimeout, Set.copyOf(held.keySet()))
        .onSuccess(
            n -> {
              if (n > 0) {
                log.warn(
                    "Restored {} unacknowledged messages older than {}s (their consumer is gone)",
                    n,
                    visibilityTimeout);
              }
            })
        .onFailure(
            err -> log.warn("Restore of unacknowledged messages failed: {}", err.getMessage()));
  }

  /**
   * Closes like kombu's channel: settlements in flight are finished, then every message we still
   * hold is restored to the front of its queue for another worker.
   */
  Future<Void> close() {
    vertx.cancelTimer(freshTimer);
    vertx.cancelTimer(restoreTimer);
    return whenSettled()
        .compose(
            v -> {
              closed = true;
              if (retryTimer >= 0) {
                vertx.cancelTimer(retryTimer);
              }
              if (!retrying.isEmpty()) {
                log.warn(
                    "{} settlements could not be sent before closing; those messages are restored after the visibility "
                        + "timeout",
                    retrying.size());
              }
              List<String> ours = new ArrayList<>(held.keySet());
              held.clear();
              List<Future<Boolean>> restores =
                  ours.stream().map(tag -> store.restore(tag, true)).toList();
              return Future.join(restores)
                  .otherwiseEmpty()
                  .onSuccess(
                      x -> {
                        if (!ours.isEmpty()) {
                          log.info(
                              "Restored {} unacknowledged messages to their queues", ours.size());
                        }
                      })
                  .mapEmpty();
            });
  }
}

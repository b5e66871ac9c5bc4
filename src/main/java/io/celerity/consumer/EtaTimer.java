package io.celerity.consumer;

import io.vertx.core.Vertx;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Requests held until their ETA (Celery's consumer timer), each on its own event-loop timer. They
 * stay unacked while held; the consumer raises the prefetch count by one per held request (as
 * Celery does) so held requests do not starve the pool, but only up to {@code limit}
 * ({@code worker_eta_task_limit}): past it, held requests occupy ordinary prefetch slots, which
 * bounds the memory they take. Event-loop confined.
 */
public final class EtaTimer {

  private final Vertx vertx;
  private final Integer limit;
  private final Consumer<Request> due;
  private final Map<Long, Request> held = new HashMap<>();

  public EtaTimer(Vertx vertx, Integer limit, Consumer<Request> due) {
    this.vertx = vertx;
    this.limit = limit;
    this.due = due;
  }

  public void hold(Request request, Instant eta) {
    long delayMs = Math.max(1, eta.toEpochMilli() - System.currentTimeMillis());
    long timer = vertx.setTimer(delayMs, id -> {
      Request r = held.remove(id);
      if (r != null) {
        due.accept(r);
      }
    });
    held.put(timer, request);
  }

  /** How much the prefetch count is raised for held requests. */
  public int prefetchBonus() {
    return limit == null ? held.size() : Math.min(held.size(), limit);
  }

  public int size() {
    return held.size();
  }

  /** Drops held requests of a lost connection: the broker redelivers them. */
  public int forgetGeneration(long generation) {
    int before = held.size();
    held.entrySet().removeIf(e -> {
      if (e.getValue().delivery().generation() <= generation) {
        vertx.cancelTimer(e.getKey());
        return true;
      }
      return false;
    });
    return before - held.size();
  }

  /** Removes and returns held requests with these ids (revoked). */
  public List<Request> remove(java.util.Collection<String> ids) {
    List<Request> out = new ArrayList<>();
    held.entrySet().removeIf(e -> {
      if (ids.contains(e.getValue().id())) {
        vertx.cancelTimer(e.getKey());
        out.add(e.getValue());
        return true;
      }
      return false;
    });
    return out;
  }

  /** The held requests, for {@code inspect scheduled}. */
  public List<Request> scheduled() {
    return new ArrayList<>(held.values());
  }

  /** Takes every held request out (warm shutdown: they go back to the broker). */
  public List<Request> takeAll() {
    held.keySet().forEach(vertx::cancelTimer);
    List<Request> out = new ArrayList<>(held.values());
    held.clear();
    return out;
  }
}

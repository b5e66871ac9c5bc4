package io.celerity.consumer;

import io.celerity.types.Request;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Rate limits per task type (Celery's task buckets): a token bucket per rate-limited task name, and
 * a waiting line per name drained on event-loop timers. Requests of other task types pass straight
 * through, so a rate-limited type never holds the others up. Event-loop confined.
 */
public final class TaskBuckets {

  private final Vertx vertx;
  private final Consumer<Request> release;
  private final Map<String, TokenBucket> buckets = new HashMap<>();
  private final Map<String, Deque<Request>> waiting = new HashMap<>();
  private final Map<String, Long> timers = new HashMap<>();

  public TaskBuckets(Vertx vertx, Consumer<Request> release) {
    this.vertx = vertx;
    this.release = release;
  }

  /**
   * Sets (or with 0, removes) the rate of a task type, in tasks per second. Requests already
   * waiting follow the new rate.
   */
  public void setRate(String task, double perSecond) {
    if (perSecond <= 0) {
      buckets.remove(task);
      Deque<Request> q = waiting.remove(task);
      Long t = timers.remove(task);
      if (t != null) {
        vertx.cancelTimer(t);
      }
      if (q != null) {
        q.forEach(release);
      }
    } else {
      buckets.put(task, new TokenBucket(perSecond, System.nanoTime()));
      drain(task);
    }
  }

  public boolean isLimited(String task) {
    return buckets.containsKey(task);
  }

  public void submit(Request r) {
    String task = r.message().task();
    TokenBucket bucket = buckets.get(task);
    if (bucket == null) {
      release.accept(r);
      return;
    }
    Deque<Request> q = waiting.computeIfAbsent(task, t -> new ArrayDeque<>());
    q.addLast(r);
    drain(task);
  }

  private void drain(String task) {
    TokenBucket bucket = buckets.get(task);
    Deque<Request> q = waiting.get(task);
    if (bucket == null || q == null || timers.containsKey(task)) {
      return;
    }
    while (!q.isEmpty() && bucket.tryTake(System.nanoTime())) {
      release.accept(q.pollFirst());
    }
    if (!q.isEmpty()) {
      long delayMs = Math.max(1, bucket.nanosUntilToken(System.nanoTime()) / 1_000_000);
      timers.put(
          task,
          vertx.setTimer(
              delayMs,
              id -> {
                timers.remove(task);
                drain(task);
              }));
    }
  }

  /** Requests waiting for a token. */
  public int waitingCount() {
    int n = 0;
    for (Deque<Request> q : waiting.values()) {
      n += q.size();
    }
    return n;
  }

  /** Removes and returns the waiting requests that match. */
  public List<Request> removeIf(java.util.function.Predicate<Request> match) {
    List<Request> out = new ArrayList<>();
    for (Deque<Request> q : waiting.values()) {
      q.removeIf(
          r -> {
            if (match.test(r)) {
              out.add(r);
              return true;
            }
            return false;
          });
    }
    return out;
  }

  /** The waiting requests, for {@code inspect reserved}. */
  public List<Request> waiting() {
    List<Request> out = new ArrayList<>();
    waiting.values().forEach(out::addAll);
    return out;
  }
}

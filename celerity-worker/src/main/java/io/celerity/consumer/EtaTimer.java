package io.celerity.consumer;

import io.celerity.protocol.Json;
import io.celerity.protocol.MessageDecoder;
import io.celerity.types.Delivery;
import io.celerity.types.Request;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests held until their ETA (Celery's consumer timer). They stay unacked while held; the
 * consumer raises the prefetch count by one per held request (as Celery does) so held requests do
 * not starve the pool, but only up to {@code limit} ({@code worker_eta_task_limit}): past it, held
 * requests occupy ordinary prefetch slots, which bounds how many there are.
 *
 * <p>Held requests are kept compact, because a worker may hold many thousands: the raw body, the
 * headers re-encoded as JSON and a few interned strings, in one priority queue under a single
 * event-loop timer armed for the earliest ETA. When due, a request is decoded again (about half a
 * microsecond), which also picks up task options changed meanwhile. A request whose body was
 * decoded off the event loop (compressed, or larger than {@link MessageDecoder#HEAVY_BODY_BYTES})
 * is held as decoded instead: decoding it again would inflate or parse it on the loop. Event-loop
 * confined.
 */
public final class EtaTimer {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.consumer");

  /** A held delivery in compact form, or as decoded ({@code decoded}, for heavy bodies). */
  private record Held(
      Request decoded,
      String id,
      long etaMillis,
      long seq,
      byte[] body,
      byte[] headersJson,
      String contentType,
      String contentEncoding,
      String correlationId,
      String replyTo,
      Integer priority,
      String exchange,
      String routingKey,
      String queue,
      boolean redelivered,
      Object deliveryTag,
      long generation) {}

  private final Vertx vertx;
  private final Integer limit;
  private final Consumer<Request> due;
  private final Function<Delivery, Request> rebuild;
  private final Consumer<Delivery> dropped;
  private final PriorityQueue<Held> held =
      new PriorityQueue<>(Comparator.comparingLong(Held::etaMillis).thenComparingLong(Held::seq));
  private long seq;
  private long timer = -1;
  private long timerAt = Long.MAX_VALUE;

  /**
   * @param rebuild turns a held delivery back into its request (the consumer's strategy); null if
   *     it no longer is one (then it is dropped with a log line)
   * @param dropped settles a held delivery that no longer makes a request
   */
  public EtaTimer(
      Vertx vertx,
      Integer limit,
      Consumer<Request> due,
      Function<Delivery, Request> rebuild,
      Consumer<Delivery> dropped) {
    this.vertx = vertx;
    this.limit = limit;
    this.due = due;
    this.rebuild = rebuild;
    this.dropped = dropped;
  }

  public void hold(Request request, Instant eta) {
    Delivery d = request.delivery();
    boolean heavy = MessageDecoder.isHeavy(d);
    held.add(
        new Held(
            heavy ? request : null,
            request.id(),
            eta.toEpochMilli(),
            seq++,
            heavy ? null : d.body(),
            heavy ? null : Json.encode(d.headers()),
            intern(d.contentType()),
            intern(d.contentEncoding()),
            request.id().equals(d.correlationId()) ? null : d.correlationId(),
            intern(d.replyTo()),
            d.priority(),
            intern(d.exchange()),
            intern(d.routingKey()),
            intern(d.queue()),
            d.redelivered(),
            d.deliveryTag(),
            d.generation()));
    arm();
  }

  private static String intern(String s) {
    return s == null ? null : s.intern();
  }

  /** One timer, for the earliest ETA. */
  private void arm() {
    Held head = held.peek();
    if (head == null) {
      cancelTimer();
      return;
    }
    if (timer >= 0 && timerAt <= head.etaMillis()) {
      return;
    }
    cancelTimer();
    timerAt = head.etaMillis();
    timer =
        vertx.setTimer(Math.max(1, head.etaMillis() - System.currentTimeMillis()), id -> fire());
  }

  private void cancelTimer() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
      timerAt = Long.MAX_VALUE;
    }
  }

  private void fire() {
    timer = -1;
    timerAt = Long.MAX_VALUE;
    long now = System.currentTimeMillis();
    try {
      while (!held.isEmpty() && held.peek().etaMillis() <= now) {
        Held h = held.poll();
        try {
          Request r = restore(h, true);
          if (r != null) {
            due.accept(r);
          }
        } catch (RuntimeException e) {
          // one bad held request must not strand the ones behind it
          log.error("Task {}: failed when its ETA came", h.id(), e);
        }
      }
    } finally {
      arm();
    }
  }

  private Request restore(Held h, boolean dropIfBad) {
    if (h.decoded() != null) {
      return h.decoded();
    }
    Map<String, Object> headers = null;
    try {
      headers = headers(h);
    } catch (IOException | ClassCastException e) {
      log.error("Dropping held task {}: its headers no longer decode: {}", h.id(), e.getMessage());
    }
    Delivery d = delivery(h, headers);
    Request r = null;
    if (headers != null) {
      try {
        r = rebuild.apply(d);
      } catch (RuntimeException e) {
        log.error("Held task {} no longer decodes", h.id(), e);
      }
    }
    if (r == null && dropIfBad) {
      log.error(
          "Dropping held task {}: it is no longer a runnable request; the message has been rejected",
          h.id());
      dropped.accept(d);
    }
    return r;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> headers(Held h) throws IOException {
    return (Map<String, Object>) Json.parse(h.headersJson());
  }

  /** The delivery a held request came in, without decoding its body. */
  private static Delivery delivery(Held h, Map<String, Object> headers) {
    if (h.decoded() != null) {
      return h.decoded().delivery();
    }
    return new Delivery(
        h.body(),
        h.contentType(),
        h.contentEncoding(),
        headers,
        h.correlationId() == null ? h.id() : h.correlationId(),
        h.replyTo(),
        h.priority(),
        h.exchange(),
        h.routingKey(),
        h.queue(),
        h.redelivered(),
        h.deliveryTag(),
        h.generation());
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
    held.removeIf(h -> h.generation() <= generation);
    arm();
    return before - held.size();
  }

  /** Removes and returns held requests with these ids (revoked). */
  public List<Request> remove(Collection<String> ids) {
    List<Request> out = new ArrayList<>();
    held.removeIf(
        h -> {
          if (ids.contains(h.id())) {
            Request r = restore(h, true);
            if (r != null) {
              out.add(r);
            }
            return true;
          }
          return false;
        });
    arm();
    return out;
  }

  /**
   * The held requests, earliest first, for {@code inspect scheduled}: decoded again on a worker
   * thread (with 100,000 held that is seconds of work; the event loop only copies the queue).
   */
  public Future<List<Request>> scheduled() {
    List<Held> snapshot = new ArrayList<>(held);
    return vertx.executeBlocking(() -> restoreAll(snapshot), false);
  }

  private List<Request> restoreAll(List<Held> snapshot) {
    snapshot.sort(held.comparator());
    List<Request> out = new ArrayList<>(snapshot.size());
    for (Held h : snapshot) {
      Request r = restore(h, false);
      if (r != null) {
        out.add(r);
      }
    }
    return out;
  }

  /**
   * Takes every held delivery out (shutdown: they go back to the broker). Not decoded again: with
   * many held that would be seconds on the event loop, and a requeue needs only the delivery.
   */
  public List<Delivery> takeAll() {
    List<Delivery> out = new ArrayList<>(held.size());
    for (Held h : held) {
      Map<String, Object> headers;
      try {
        headers = headers(h);
      } catch (IOException | ClassCastException e) {
        headers = null; // requeued all the same: the next worker decides what it is
      }
      out.add(delivery(h, headers));
    }
    held.clear();
    cancelTimer();
    return out;
  }
}

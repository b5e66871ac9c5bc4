package io.celerity.consumer;

import io.celerity.task.TaskRegistry;
import io.celerity.transport.Transport;
import io.celerity.types.Delivery;
import io.celerity.types.Request;
import io.celerity.types.Settle;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

/**
 * From a received request to the pool: the revocation check, the hold until the ETA, the rate
 * limit, then dispatch. Held requests stay unacked; the prefetch count is raised for them ({@link
 * Qos}). Event-loop confined.
 */
final class Admission {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Admission.class);

  private final TaskRegistry registry;
  private final Unsettled unsettled;
  private final PullCredit credit;
  private final Revocations revocations;
  private final Settler settler;
  private final Containment containment;
  private final Qos qos;
  private final Consumer<Request> pool;
  private final Consumer<TaskOutcome> results;
  private final EtaTimer etaTimer;
  private final TaskBuckets buckets;
  private final Transport transport;

  /**
   * @param strategy decodes a held delivery again when its ETA comes
   * @param pool where runnable requests go
   * @param results where REVOKED outcomes of discarded requests go
   * @param transport where a countdown can wait instead of here (native delayed delivery), if it
   *     can
   */
  Admission(
      Vertx vertx,
      TaskRegistry registry,
      Strategy strategy,
      Integer etaTaskLimit,
      Unsettled unsettled,
      PullCredit credit,
      Revocations revocations,
      Settler settler,
      Containment containment,
      Qos qos,
      Consumer<Request> pool,
      Consumer<TaskOutcome> results,
      Transport transport) {
    this.transport = transport;
    this.registry = registry;
    this.unsettled = unsettled;
    this.credit = credit;
    this.revocations = revocations;
    this.settler = settler;
    this.containment = containment;
    this.qos = qos;
    this.pool = pool;
    this.results = results;
    this.etaTimer =
        new EtaTimer(
            vertx,
            etaTaskLimit,
            this::due,
            d -> strategy.decide(d) instanceof Strategy.Run run ? run.request() : null,
            this::heldDropped);
    this.buckets = new TaskBuckets(vertx, this::dispatch);
    for (String name : registry.names()) {
      String limit = registry.get(name).options().rateLimit();
      if (limit != null) {
        buckets.setRate(name, TokenBucket.parseRate(limit));
      }
    }
  }

  /**
   * A decoded request: discarded if revoked, held for its ETA or rate limit, or sent to the pool.
   */
  void accept(Request request) {
    if (discardIfRevoked(request)) {
      credit.discarded(request);
      return;
    }
    Instant eta = request.message().eta();
    if (eta != null && eta.isAfter(Instant.now())) {
      long seconds = java.time.Duration.between(Instant.now(), eta).getSeconds();
      if (seconds >= 1 && transport.canDelay(request.delivery().queue())) {
        delayInBroker(request, seconds);
        return;
      }
      unsettled.stage(request.delivery(), Unsettled.Stage.HELD);
      etaTimer.hold(request, eta);
      updatePrefetch();
      credit.held(request);
      return;
    }
    if (buckets.isLimited(request.message().task())) {
      unsettled.stage(request.delivery(), Unsettled.Stage.HELD);
      credit.held(request);
    }
    buckets.submit(request);
    updatePrefetch();
  }

  /**
   * Native delayed delivery: a copy waits in the broker's delay queues for the whole seconds left
   * and comes back to the queue (the rest, under a second, is held here then); the original is
   * acked once the broker confirmed the copy. So no delivery stays unacked for long (RabbitMQ's
   * {@code consumer_timeout} would close the channel) and the prefetch window is not raised. If the
   * copy cannot be published, the request is held here as without delayed delivery.
   */
  private void delayInBroker(Request request, long seconds) {
    Delivery d = request.delivery();
    unsettled.stage(d, Unsettled.Stage.HELD);
    credit.held(request);
    Future<Void> copied;
    try {
      copied = transport.delay(d, seconds);
    } catch (RuntimeException e) { // e.g. a header the broker cannot carry: held here instead
      copied = Future.failedFuture(e);
    }
    copied.onComplete(
        ar -> {
          if (ar.succeeded()) {
            log.debug(
                "Task {} waits {} s in the broker's delay queues", request.logName(), seconds);
            if (settler.settle(d, Settle.Action.ACK)) {
              credit.discarded(request);
            }
          } else if (unsettled.contains(d)) {
            log.warn(
                "Task {}: cannot hand it to the broker's delay queues ({}); holding it here until its ETA",
                request.logName(),
                io.celerity.transport.ConnectionLifecycle.describe(ar.cause()));
            etaTimer.hold(request, request.message().eta());
            updatePrefetch();
          }
        });
  }

  /**
   * An ETA came: the same revocation check again (a revoke takes effect at the ETA), then the rate
   * limit.
   */
  private void due(Request request) {
    try {
      updatePrefetch();
      if (discardIfRevoked(request)) {
        credit.discarded(request);
      } else {
        buckets.submit(request);
        updatePrefetch();
      }
    } catch (RuntimeException e) {
      containment.contain(request.delivery(), request.message(), e);
    }
  }

  /** A held delivery that no longer decodes into a request when due: rejected, as at receipt. */
  private void heldDropped(Delivery delivery) {
    if (settler.settle(delivery, Settle.Action.REJECT)) {
      credit.notARequest();
    }
  }

  private void dispatch(Request request) {
    if (discardIfRevoked(request)) {
      credit.discarded(request);
    } else {
      credit.dispatched(request);
      unsettled.stage(request.delivery(), Unsettled.Stage.DISPATCHED);
      pool.accept(request);
    }
  }

  /** Expired or revoked requests are not run but stored REVOKED (the result writer acks them). */
  private boolean discardIfRevoked(Request request) {
    String reason = revocations.discardReason(request, Instant.now());
    if (reason == null) {
      return false;
    }
    results.accept(TaskOutcome.revokedBeforeStart(request, reason));
    return true;
  }

  private void updatePrefetch() {
    qos.update(etaTimer.prefetchBonus(), buckets.waitingCount());
  }

  /** {@code revoke}: remember the ids, drop held requests with them. */
  void revoke(Collection<String> ids) {
    revocations.revoke(ids);
    List<Request> dropped = new ArrayList<>(etaTimer.remove(ids));
    dropped.addAll(buckets.removeIf(r -> ids.contains(r.id())));
    dropped.forEach(r -> results.accept(TaskOutcome.revokedBeforeStart(r, "revoked")));
    updatePrefetch();
  }

  /** {@code rate_limit}: Celery's replies. */
  JsonObject rateLimit(String task, Object rateLimit) {
    if (registry.get(task) == null) {
      return new JsonObject().put("error", "unknown task");
    }
    double rate;
    try {
      rate = TokenBucket.parseRate(rateLimit);
    } catch (IllegalArgumentException e) {
      return new JsonObject().put("error", e.getMessage());
    }
    registry.updateOptions(task, o -> o.withRateLimit(rate > 0 ? String.valueOf(rateLimit) : null));
    buckets.setRate(task, rate);
    updatePrefetch();
    return new JsonObject()
        .put(
            "ok",
            rate > 0 ? "new rate limit set successfully" : "rate limit disabled successfully");
  }

  /** Drops what is held of a lost connection: the broker redelivers it. */
  void forgetGeneration(long generation) {
    etaTimer.forgetGeneration(generation);
    buckets.removeIf(r -> r.delivery().generation() <= generation);
    updatePrefetch();
  }

  /** Takes every held delivery out (shutdown: they go back to the broker). */
  List<Delivery> takeHeld() {
    List<Delivery> out = new ArrayList<>(etaTimer.takeAll());
    buckets.removeIf(r -> true).forEach(r -> out.add(r.delivery()));
    return out;
  }

  /** The requests held for their ETA, earliest first. */
  Future<List<Request>> scheduled() {
    return etaTimer.scheduled();
  }

  int etaHeld() {
    return etaTimer.size();
  }

  int rateLimited() {
    return buckets.waitingCount();
  }
}

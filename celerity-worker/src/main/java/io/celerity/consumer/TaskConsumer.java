package io.celerity.consumer;

import io.celerity.WorkerServices;
import io.celerity.config.WorkerOptions;
import io.celerity.events.TaskEvents;
import io.celerity.metrics.WorkerMetrics;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.MessageDecoder;
import io.celerity.protocol.TaskMessage;
import io.celerity.protocol.UndecodableBodyException;
import io.celerity.transport.Transport;
import io.celerity.types.Delivery;
import io.celerity.types.Request;
import io.celerity.types.Settle;
import io.celerity.types.TaskMdc;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer's work, without the event bus: deliveries in, decided by the {@link Strategy},
 * admitted ({@link Admission}), settled at most once ({@link Settler}); what goes to the pool and
 * the result writer leaves through {@link Ports}. Event-loop confined.
 */
public final class TaskConsumer {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.strategy");

  /**
   * Where the consumer's output goes.
   *
   * @param pool runnable requests
   * @param results outcomes decided here (FAILURE of a contained message, REVOKED)
   * @param poolTaskIds the task ids the pool holds, reserved or running (for the watchdog)
   */
  public record Ports(
      Consumer<Request> pool,
      Consumer<TaskOutcome> results,
      Supplier<Future<Set<String>>> poolTaskIds) {}

  private final Transport transport;
  private final TaskEvents events;
  private final WorkerMetrics metrics;
  private final Ports ports;
  private final MessageDecoder decoder;
  private final Strategy strategy;
  private final WorkerExecutor inflater;
  private final Unsettled unsettled = new Unsettled();
  private final Settler settler;
  private final PullCredit credit;
  private final Revocations revocations;
  private final Containment containment;
  private final Qos qos;
  private final Admission admission;
  private final UnsettledWatchdog watchdog;
  private long received;

  public TaskConsumer(
      Vertx vertx,
      WorkerOptions options,
      WorkerServices services,
      Transport transport,
      Ports ports) {
    this.transport = transport;
    this.events = services.events();
    this.metrics = services.metrics();
    this.ports = ports;
    decoder = new MessageDecoder(MessageDecoder.DEFAULT_ACCEPT, options.getMaxDecompressedBody());
    strategy = new Strategy(decoder, services.registry(), options);
    inflater = vertx.createSharedWorkerExecutor("celerity-inflate", 1);
    settler = new Settler(unsettled, transport);
    // disable_prefetch: one message per free pool slot (credit), pulled rather than pushed
    credit = new PullCredit(options.isDisablePrefetch(), transport::grant);
    revocations = new Revocations(vertx, options.getStatedb());
    containment = new Containment(settler, credit, metrics, ports.results());
    qos =
        new Qos(
            Qos.configured(options, services.registry().hasAsync()),
            options.getEtaTaskLimit(),
            transport::prefetch);
    admission =
        new Admission(
            vertx,
            services.registry(),
            strategy,
            options.getEtaTaskLimit(),
            unsettled,
            credit,
            revocations,
            settler,
            containment,
            qos,
            ports.pool(),
            ports.results(),
            transport);
    watchdog =
        new UnsettledWatchdog(
            unsettled,
            (long) (options.getUnsettledDeadline() * 1000),
            System::currentTimeMillis,
            ports.poolTaskIds(),
            metrics::unsettledStuck);
  }

  /** Reads the state file of revoked ids, if any; deliveries should not come before. */
  public Future<Void> load() {
    return revocations.load();
  }

  /** A delivery from the transport. */
  public void onDelivery(Delivery delivery) {
    received++;
    unsettled.received(delivery, Containment.taskIdOf(delivery), System.currentTimeMillis());
    if (!MessageDecoder.isHeavy(delivery)) {
      decide(delivery);
      return;
    }
    // Compressed or large: inflate (bounded) and parse on a worker thread, so neither a bomb nor a
    // megabyte of JSON costs event-loop time; one at a time, so a burst of bombs holds at most one
    // bound's worth of heap.
    inflater
        .executeBlocking(() -> strategy.decide(decoder.inflate(delivery)), true)
        .onComplete(
            ar -> {
              if (!unsettled.contains(delivery)) {
                return; // its connection was lost meanwhile: the broker has it back
              }
              if (ar.succeeded()) {
                decided(delivery, ar.result());
              } else if (ar.cause() instanceof UndecodableBodyException bad) {
                undecodable(delivery, bad.getMessage());
              } else {
                containment.contain(delivery, null, ar.cause());
              }
            });
  }

  private void decide(Delivery delivery) {
    Strategy.Decision decision;
    try {
      decision = strategy.decide(delivery);
    } catch (RuntimeException | StackOverflowError e) {
      containment.contain(delivery, null, e);
      return;
    }
    decided(delivery, decision);
  }

  /** What the strategy's decision says; whatever goes wrong settles this delivery alone. */
  private void decided(Delivery delivery, Strategy.Decision decision) {
    TaskMessage message = null;
    try {
      if (decision instanceof Strategy.Run run) {
        message = run.request().message();
        received(run.request());
      } else if (decision instanceof Strategy.Invalid invalid) {
        log.error(
            "Received invalid task message: {}. The message has been rejected.", invalid.reason());
        settler.settle(delivery, Settle.Action.REJECT);
        credit.notARequest();
        events.taskRejected(Containment.taskIdOf(delivery), false);
      } else if (decision instanceof Strategy.Undecodable bad) {
        undecodable(delivery, bad.reason());
      } else if (decision instanceof Strategy.Unregistered unknown) {
        log.error(
            "Received unregistered task of type '{}'.\nThe message has been ignored and discarded.",
            unknown.message().task());
        settler.settle(delivery, Settle.Action.REJECT);
        credit.notARequest();
        ports
            .results()
            .accept(
                TaskOutcome.failedBeforeRun(
                    unknown.message(), ExceptionInfo.notRegistered(unknown.message().task())));
      }
    } catch (RuntimeException | StackOverflowError e) {
      containment.contain(delivery, message, e);
    }
  }

  private void received(Request request) {
    metrics.received(request.message().task());
    events.taskReceived(request);
    if (log.isInfoEnabled()) {
      try (TaskMdc.Scope mdc = TaskMdc.enter(request.id(), request.message().task())) {
        log.info("Task {} received", request.logName());
      }
    }
    admission.accept(request);
  }

  private void undecodable(Delivery delivery, String reason) {
    log.error(
        "Can't decode message body: {} (type:{} encoding:{}). The message has been acked and dropped.",
        reason,
        delivery.contentType(),
        delivery.contentEncoding());
    settler.settle(delivery, Settle.Action.ACK);
    credit.notARequest();
  }

  /** An ack, reject or requeue from the pool or the result writer; a repeated one is dropped. */
  public void settle(Settle s) {
    settler.settle(s);
  }

  /** Pool slots freed (or, at start, the pool's size): pull-mode credit. */
  public void slotsFreed(int n) {
    credit.slotsFreed(n);
  }

  /**
   * The broker connection of this generation was lost: what is held of it is forgotten
   * (redelivered).
   */
  public void connectionLost(long generation) {
    unsettled.forgetGeneration(generation);
    admission.forgetGeneration(generation);
  }

  /**
   * {@code revoke}: remembers the ids (and saves them), drops held requests with them (stored
   * REVOKED).
   */
  public void revoke(Collection<String> ids) {
    admission.revoke(ids);
  }

  /** {@code rate_limit}: Celery's reply. */
  public JsonObject rateLimit(String task, Object rateLimit) {
    return admission.rateLimit(task, rateLimit);
  }

  /** Reports deliveries unsettled for no reason (the watchdog's round). */
  public void checkUnsettled() {
    watchdog.check();
  }

  /** Held requests go back to the broker, and the revoked ids to the state file (shutdown). */
  public Future<Void> stop() {
    admission.takeHeld().forEach(d -> settler.settle(d, Settle.Action.REQUEUE));
    return revocations.save();
  }

  /** The requests held for their ETA, earliest first ({@code inspect scheduled}). */
  public Future<List<Request>> scheduled() {
    return admission.scheduled();
  }

  /** Revoked id -> epoch millis of the revoke. */
  public Map<String, Long> revoked() {
    return revocations.snapshot();
  }

  public int revokedCount() {
    return revocations.size();
  }

  public long received() {
    return received;
  }

  public int unsettledCount() {
    return unsettled.size();
  }

  public int unsettledStuck() {
    return watchdog.stuck();
  }

  public int etaHeld() {
    return admission.etaHeld();
  }

  public int rateLimited() {
    return admission.rateLimited();
  }

  /** The prefetch count the broker was last told. */
  public int appliedPrefetch() {
    return qos.applied();
  }
}

package io.celerity.consumer;

import io.celerity.Addresses;
import io.celerity.config.Urls;
import io.celerity.config.WorkerOptions;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.MessageDecoder;
import io.celerity.protocol.States;
import io.celerity.protocol.TaskMessage;
import io.celerity.protocol.UndecodableBodyException;
import io.celerity.task.TaskRegistry;
import io.celerity.transport.Transport;
import io.celerity.transport.TransportOptions;
import io.celerity.transport.Transports;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.Request;
import io.celerity.types.RequestInfo;
import io.celerity.types.RevokedSet;
import io.celerity.types.Settle;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;

/**
 * The consumer: owns the broker connection, turns deliveries into requests for the pool, settles
 * deliveries when told to, and publishes on behalf of the other verticles.
 */
public class ConsumerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.strategy");
  /** AMQP's prefetch count is 16 bits. */
  private static final int MAX_PREFETCH = 65_535;

  private final TaskRegistry registry;
  private final io.celerity.WorkerServices services;
  private WorkerOptions options;
  private Transport transport;
  private Strategy strategy;
  private MessageDecoder decoder;
  private io.vertx.core.WorkerExecutor inflater;
  private final Unsettled unsettled = new Unsettled();
  private final RevokedSet revoked = new RevokedSet();
  private EtaTimer etaTimer;
  private TaskBuckets buckets;
  private StateDb stateDb;
  private long received;
  private UnsettledWatchdog watchdog;
  private PullCredit credit;
  private final io.vertx.core.Promise<Void> connected = io.vertx.core.Promise.promise();

  private int prefetch;
  private int appliedPrefetch;
  private io.celerity.events.TaskEvents events;
  private io.celerity.metrics.WorkerMetrics metrics;

  public ConsumerVerticle(io.celerity.WorkerServices services) {
    this.services = services;
    this.registry = services.registry();
  }

  @Override
  public Future<?> start() {
    options = new WorkerOptions(config());
    decoder = new MessageDecoder(MessageDecoder.DEFAULT_ACCEPT, options.getMaxDecompressedBody());
    inflater = vertx.createSharedWorkerExecutor("celerity-inflate", 1);
    strategy = new Strategy(decoder, registry, options);
    int base = options.getPrefetchCount(); // 0: unlimited
    prefetch = base == 0 ? 0 : Math.min(MAX_PREFETCH, base + options.getAsyncPrefetch(registry.hasAsync()));
    appliedPrefetch = prefetch;
    etaTimer = new EtaTimer(vertx, options.getEtaTaskLimit(), this::due,
      d -> strategy.decide(d) instanceof Strategy.Run run ? run.request() : null, this::heldDropped);
    buckets = new TaskBuckets(vertx, this::dispatch);
    for (String name : registry.names()) {
      String limit = registry.get(name).options().rateLimit();
      if (limit != null) {
        buckets.setRate(name, TokenBucket.parseRate(limit));
      }
    }
    transport = Transports.create(vertx, new TransportOptions(options.getBroker(), options.getQueues(), prefetch,
      options.getQueueMaxPriority(), options.getReconnectMaxDelayMs(), "celerity " + options.getHostname(),
      options.getBrokerTransportOptions().getMap(), options.isBrokerConnectionRetryOnStartup(),
      options.getBrokerConnectionMaxRetries()));
    var bus = vertx.eventBus();
    events = services.events();
    metrics = services.metrics();
    controlHandlers(bus);
    bus.<Settle>consumer(Addresses.CONSUMER_SETTLE, m -> settle(m.body()));
    bus.<Settle.Batch>consumer(Addresses.CONSUMER_SETTLE_ALL, m -> m.body().settles().forEach(this::settle));
    bus.<OutgoingMessage>consumer(Addresses.BROKER_PUBLISH, m -> transport.publish(m.body())
      .onSuccess(v -> m.reply(null))
      .onFailure(err -> m.fail(500, err.getMessage())));
    bus.consumer(Addresses.CONSUMER_STATS, m -> m.reply(stats()));
    bus.consumer(Addresses.CONSUMER_STOP, m -> transport.stopConsuming().onComplete(ar -> m.reply(null)));
    bus.<JsonObject>consumer(Addresses.CONSUMER_REVOKE, m -> m.reply(revoke(m.body())));
    // disable_prefetch: one message per free pool slot (credit), pulled rather than pushed
    credit = new PullCredit(options.isDisablePrefetch(), transport::grant);
    bus.<Integer>consumer(Addresses.CONSUMER_SLOTS_FREED, m -> credit.slotsFreed(m.body()));
    if (options.isDisablePrefetch()) {
      transport.pullOnly();
    }
    bus.<io.celerity.transport.FanoutSubscription>consumer(Addresses.CONSUMER_FANOUT, m ->
      transport.consumeFanout(m.body().binding(), d -> bus.send(m.body().address(), d))
        .onSuccess(v -> m.reply(null)).onFailure(err -> m.fail(500, err.getMessage())));
    bus.consumer(Addresses.CONSUMER_SCHEDULED, m -> {
      io.vertx.core.json.JsonArray out = new io.vertx.core.json.JsonArray();
      for (Request r : etaTimer.scheduled()) {
        out.add(new JsonObject().put("eta", io.celerity.protocol.IsoTime.utc(r.message().eta()))
          .put("priority", 6).put("request", RequestInfo.of(r, null, false, null)));
      }
      m.reply(out);
    });
    bus.<JsonObject>consumer(Addresses.CONSUMER_RATE_LIMIT, m -> m.reply(rateLimit(m.body())));
    transport.connectionLostHandler(gen -> {
      unsettled.forgetGeneration(gen);
      etaTimer.forgetGeneration(gen);
      buckets.removeIf(r -> r.delivery().generation() <= gen);
      updatePrefetch();
      bus.send(Addresses.POOL_FORGET_GENERATION, gen);
    });
    stateDb = options.getStatedb() == null ? null : new StateDb(vertx, options.getStatedb());
    Future<Void> loaded = stateDb == null ? Future.succeededFuture() : stateDb.load(revoked)
      .onSuccess(v -> log.info("Loaded {} revoked task id(s) from {}", revoked.size(), options.getStatedb()));
    long every = Math.max(1000, Math.min(30_000, (long) (options.getUnsettledDeadline() * 250)));
    watchdog = new UnsettledWatchdog(unsettled, (long) (options.getUnsettledDeadline() * 1000),
      System::currentTimeMillis, this::poolTaskIds, metrics::unsettledStuck);
    vertx.setPeriodic(every, every, id -> watchdog.check());
    // Deployed without waiting for the broker: while the transport retries, /ready answers "not ready".
    return loaded.onSuccess(v -> {
      transport.start(this::onDelivery).onComplete(connected);
      credit.slotsFreed(options.getConcurrency());
    });
  }

  /** Completes at the first broker connection; fails when the transport gives up retrying at start-up. */
  public Future<Void> connected() {
    return connected.future();
  }

  private void onDelivery(Delivery delivery) {
    received++;
    unsettled.received(delivery, taskIdOf(delivery), System.currentTimeMillis());
    if (!MessageDecoder.isHeavy(delivery)) {
      decide(delivery);
      return;
    }
    // Compressed or large: inflate (bounded) on a worker thread, so a bomb costs no event-loop time;
    // one at a time, so a burst of bombs holds at most one bound's worth of heap.
    inflater.executeBlocking(() -> decoder.inflate(delivery), true).onComplete(ar -> {
      if (!unsettled.contains(delivery)) {
        return; // its connection was lost meanwhile: the broker has it back
      }
      if (ar.succeeded()) {
        decide(ar.result());
      } else if (ar.cause() instanceof UndecodableBodyException bad) {
        undecodable(delivery, bad.getMessage());
      } else {
        contain(delivery, null, ar.cause());
      }
    });
  }

  /** Strategy, then what the decision says; whatever goes wrong settles this delivery alone. */
  private void decide(Delivery delivery) {
    TaskMessage message = null;
    try {
      Strategy.Decision decision = strategy.decide(delivery);
      if (decision instanceof Strategy.Run run) {
        message = run.request().message();
        accept(run.request());
      } else if (decision instanceof Strategy.Invalid invalid) {
        log.error("Received invalid task message: {}. The message has been rejected.", invalid.reason());
        settle(delivery, Settle.Action.REJECT);
        credit.notARequest();
        events.taskRejected(taskIdOf(delivery), false);
      } else if (decision instanceof Strategy.Undecodable bad) {
        undecodable(delivery, bad.reason());
      } else if (decision instanceof Strategy.Unregistered unknown) {
        log.error("Received unregistered task of type '{}'.\nThe message has been ignored and discarded.",
          unknown.message().task());
        settle(delivery, Settle.Action.REJECT);
        credit.notARequest();
        vertx.eventBus().send(Addresses.RESULT_OUTCOME, new TaskOutcome(null, unknown.message(), States.FAILURE, null,
          ExceptionInfo.notRegistered(unknown.message().task()), 0));
      }
    } catch (RuntimeException | StackOverflowError e) {
      contain(delivery, message, e);
    }
  }

  private void undecodable(Delivery delivery, String reason) {
    log.error("Can't decode message body: {} (type:{} encoding:{}). The message has been acked and dropped.",
      reason, delivery.contentType(), delivery.contentEncoding());
    settle(delivery, Settle.Action.ACK);
    credit.notARequest();
  }

  /**
   * A bug or an input we did not foresee, while handling one message: that message is rejected
   * (never requeued: it would fail the same way on every worker, for ever), FAILURE is stored when
   * it has an id, and the worker goes on consuming.
   */
  private void contain(Delivery delivery, TaskMessage message, Throwable error) {
    String id = message != null ? message.id() : taskIdOf(delivery);
    log.error("Task {}[{}]: handling its message failed; the message has been rejected", message != null
      ? message.task() : String.valueOf(delivery.headers() == null ? null : delivery.headers().get("task")), id, error);
    metrics.containedFailure();
    if (settle(delivery, Settle.Action.REJECT)) {
      credit.notARequest();
    }
    if (message != null) {
      vertx.eventBus().send(Addresses.RESULT_OUTCOME, new TaskOutcome(null, message, States.FAILURE, null,
        ExceptionInfo.from(error), 0));
    }
  }

  private static String taskIdOf(Delivery delivery) {
    Object id = delivery.headers() == null ? null : delivery.headers().get("id");
    return id == null ? delivery.correlationId() : String.valueOf(id);
  }

  private void accept(Request request) {
    metrics.received(request.message().task());
    events.taskReceived(request);
    if (log.isInfoEnabled()) {
      log.info("Task {} received", request.logName());
    }
    if (discardIfRevoked(request)) {
      credit.discarded(request);
      return;
    }
    Instant eta = request.message().eta();
    if (eta != null && eta.isAfter(Instant.now())) {
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

  /** An ETA came: the same revocation check again (a revoke takes effect at the ETA), then the rate limit. */
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
      contain(request.delivery(), request.message(), e);
    }
  }

  /** A held delivery that no longer decodes into a request when due: rejected, as at receipt. */
  private void heldDropped(Delivery delivery) {
    if (settle(delivery, Settle.Action.REJECT)) {
      credit.notARequest();
    }
  }

  private void dispatch(Request request) {
    if (discardIfRevoked(request)) {
      credit.discarded(request);
    } else {
      credit.dispatched(request);
      unsettled.stage(request.delivery(), Unsettled.Stage.DISPATCHED);
      vertx.eventBus().send(Addresses.POOL_APPLY, request);
    }
  }

  /** Celery's revocation check: expired or revoked requests are not run but stored REVOKED and acked. */
  private boolean discardIfRevoked(Request request) {
    Instant expires = request.message().expires();
    String reason = null;
    if (expires != null && !expires.isAfter(Instant.now())) {
      revoked.add(request.id());
      reason = "expired";
    } else if (revoked.contains(request.id())) {
      reason = "revoked";
    }
    if (reason == null) {
      return false;
    }
    vertx.eventBus().send(Addresses.RESULT_OUTCOME, TaskOutcome.revokedBeforeStart(request, reason));
    return true;
  }

  /** The task ids of the requests the pool holds, reserved or running. */
  private Future<java.util.Set<String>> poolTaskIds() {
    return vertx.eventBus().<JsonObject>request(Addresses.POOL_REQUESTS, null).map(m -> {
      java.util.Set<String> known = new java.util.HashSet<>();
      for (String part : new String[] {"active", "reserved"}) {
        io.vertx.core.json.JsonArray list = m.body().getJsonArray(part);
        if (list != null) {
          list.forEach(o -> known.add(String.valueOf(((JsonObject) o).getValue("id"))));
        }
      }
      return known;
    });
  }

  /**
   * Held requests (ETA, rate limit) stay unacked; like Celery the prefetch count is raised by one
   * for each, so they do not starve the pool, within {@code eta_task_limit}.
   */
  private void updatePrefetch() {
    if (prefetch == 0) {
      return; // unlimited already
    }
    // Rate-limited requests raise the window by at most one prefetch's worth: a backlog of one
    // slow task type must not pull the whole queue into memory.
    int bonus = etaTimer.prefetchBonus() + Math.min(buckets.waitingCount(), prefetch);
    Integer cap = options.getEtaTaskLimit();
    int wanted = Math.min(MAX_PREFETCH, prefetch + (cap == null ? bonus : Math.min(bonus, cap)));
    if (wanted != appliedPrefetch) {
      appliedPrefetch = wanted;
      transport.prefetch(wanted);
    }
  }

  /** {@code revoke}: remember the ids, drop held requests with them. */
  private JsonObject revoke(JsonObject body) {
    java.util.List<String> ids = new java.util.ArrayList<>();
    body.getJsonArray("ids").forEach(id -> ids.add(id.toString()));
    ids.forEach(revoked::add);
    java.util.List<Request> dropped = new java.util.ArrayList<>(etaTimer.remove(ids));
    dropped.addAll(buckets.removeIf(r -> ids.contains(r.id())));
    dropped.forEach(r -> vertx.eventBus().send(Addresses.RESULT_OUTCOME, TaskOutcome.revokedBeforeStart(r, "revoked")));
    updatePrefetch();
    if (stateDb != null) {
      stateDb.save(revoked, 0).onFailure(err -> log.error("Cannot write state file {}: {}", options.getStatedb(), err.getMessage()));
    }
    return new JsonObject().put("revoked", revoked.size());
  }

  /** {@code rate_limit}: Celery's replies. */
  private JsonObject rateLimit(JsonObject body) {
    String task = body.getString("task_name");
    if (registry.get(task) == null) {
      return new JsonObject().put("error", "unknown task");
    }
    double rate;
    try {
      rate = TokenBucket.parseRate(body.getValue("rate_limit"));
    } catch (IllegalArgumentException e) {
      return new JsonObject().put("error", e.getMessage());
    }
    registry.updateOptions(task, o -> o.withRateLimit(rate > 0 ? String.valueOf(body.getValue("rate_limit")) : null));
    buckets.setRate(task, rate);
    updatePrefetch();
    return new JsonObject().put("ok", rate > 0 ? "new rate limit set successfully" : "rate limit disabled successfully");
  }

  private void settle(Settle s) {
    settle(s.delivery(), s.action());
  }

  /**
   * Every ack and reject goes through here: at most once per delivery, so a late or repeated settle
   * (a failure handler after a normal path, a request of a lost connection) can never close the
   * channel with an unknown delivery tag.
   *
   * @return whether the delivery was still unsettled
   */
  private boolean settle(Delivery delivery, Settle.Action action) {
    if (!unsettled.settle(delivery)) {
      log.debug("Delivery {} (generation {}) already settled or forgotten; {} dropped", delivery.deliveryTag(),
        delivery.generation(), action);
      return false;
    }
    switch (action) {
      case ACK -> transport.ack(delivery);
      case REJECT -> transport.reject(delivery, false);
      case REQUEUE -> transport.reject(delivery, true);
    }
    return true;
  }

  private JsonObject stats() {
    return new JsonObject()
      .put("broker", Urls.redact(options.getBroker()))
      .put("connected", transport.isConnected())
      .put("transport", transport.toString())
      .put("reconnects", transport.reconnects())
      .put("prefetch_count", appliedPrefetch)
      .put("received", received)
      .put("unsettled", unsettled.size())
      .put("unsettled_stuck", watchdog.stuck())
      .put("eta_held", etaTimer.size())
      .put("rate_limited", buckets.waitingCount())
      .put("revoked", revoked.size())
      .put("queues", options.getQueues());
  }

  /** Remote-control queries and commands answered from the consumer's state. */
  private void controlHandlers(io.vertx.core.eventbus.EventBus bus) {
    bus.consumer(Addresses.CONSUMER_QUEUES, m -> {
      io.vertx.core.json.JsonArray out = new io.vertx.core.json.JsonArray();
      transport.queues().forEach(q -> out.add(ActiveQueues.describe(q, options.getQueueMaxPriority())));
      m.reply(out);
    });
    bus.<JsonObject>consumer(Addresses.CONSUMER_ADD_QUEUE, m -> {
      String queue = m.body().getString("queue");
      transport.addQueue(queue)
        .onSuccess(v -> m.reply(new JsonObject().put("ok", "add consumer " + queue)))
        .onFailure(err -> m.reply(new JsonObject().put("error", err.getMessage())));
    });
    bus.<JsonObject>consumer(Addresses.CONSUMER_CANCEL_QUEUE, m -> {
      String queue = m.body().getString("queue");
      transport.cancelQueue(queue)
        .onComplete(ar -> m.reply(new JsonObject().put("ok", "no longer consuming from " + queue)));
    });
    bus.consumer(Addresses.CONSUMER_REVOKED, m -> m.reply(new JsonObject(new java.util.LinkedHashMap<>(revoked.snapshot()))));
  }

  @Override
  public Future<?> stop() {
    // Held requests go back to the broker for another worker (warm or cold shutdown alike).
    etaTimer.takeAll().forEach(r -> settle(r.delivery(), Settle.Action.REQUEUE));
    buckets.removeIf(r -> true).forEach(r -> settle(r.delivery(), Settle.Action.REQUEUE));
    Future<Void> saved = stateDb == null ? Future.succeededFuture() : stateDb.save(revoked, 0).recover(err -> {
      log.error("Cannot write state file {}: {}", options.getStatedb(), err.getMessage());
      return Future.succeededFuture();
    });
    return saved.compose(v -> transport.flush()).compose(v -> transport.close());
  }
}

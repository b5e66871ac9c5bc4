package io.celerity.consumer;

import io.celerity.Addresses;
import io.celerity.TurnBatch;
import io.celerity.WorkerServices;
import io.celerity.config.Urls;
import io.celerity.config.WorkerOptions;
import io.celerity.tracing.TaskTracing;
import io.celerity.transport.FanoutSubscription;
import io.celerity.transport.Transport;
import io.celerity.transport.TransportOptions;
import io.celerity.transport.Transports;
import io.celerity.types.ConsumerStats;
import io.celerity.types.ControlRequests;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.Request;
import io.celerity.types.Settle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Set;

/**
 * The consumer verticle: owns the broker connection and wires it, and the consumer's event-bus
 * addresses, to the {@link TaskConsumer}, which turns deliveries into requests for the pool and
 * settles them when told to; it also publishes on behalf of the other verticles.
 */
public class ConsumerVerticle extends VerticleBase {

  private final WorkerServices services;
  private WorkerOptions options;
  private Transport transport;
  private TaskConsumer consumer;
  private final Promise<Void> connected = Promise.promise();

  public ConsumerVerticle(WorkerServices services) {
    this.services = services;
  }

  @Override
  public Future<?> start() {
    options = new WorkerOptions(config());
    transport =
        Transports.create(
            vertx,
            new TransportOptions(
                options.getBroker(),
                options.getQueues(),
                Qos.configured(options, services.registry().hasAsync()),
                options.getQueueMaxPriority(),
                options.getReconnectMaxDelayMs(),
                "celerity " + options.getHostname(),
                options.getBrokerTransportOptions().getMap(),
                options.isBrokerConnectionRetryOnStartup(),
                options.getBrokerConnectionMaxRetries(),
                options.getQueueTopology()));
    var bus = vertx.eventBus();
    // the requests of one turn (a burst of deliveries) go to the pool in one message
    TurnBatch<Request> toPool =
        new TurnBatch<>(
            task -> context.runOnContext(v -> task.run()),
            batch -> bus.send(Addresses.POOL_APPLY_ALL, new Request.Batch(batch)));
    consumer =
        new TaskConsumer(
            vertx,
            options,
            services,
            transport,
            new TaskConsumer.Ports(
                toPool::add, o -> bus.send(Addresses.RESULT_OUTCOME, o), this::poolTaskIds));
    controlHandlers(bus);
    bus.<Settle>consumer(Addresses.CONSUMER_SETTLE, m -> consumer.settle(m.body()));
    bus.<Settle.Batch>consumer(
        Addresses.CONSUMER_SETTLE_ALL, m -> m.body().settles().forEach(consumer::settle));
    // every message leaves here: those published for a task carry its trace context (TaskTracing)
    bus.<OutgoingMessage>consumer(
        Addresses.BROKER_PUBLISH,
        m ->
            transport
                .publish(TaskTracing.propagate(m.body()))
                .onSuccess(v -> m.reply(null))
                .onFailure(err -> m.fail(500, err.getMessage())));
    bus.consumer(Addresses.CONSUMER_STATS, m -> m.reply(stats()));
    bus.consumer(
        Addresses.CONSUMER_QUEUE_LENGTHS,
        m -> QueueLengths.of(transport).onComplete(ar -> m.reply(ar.result())));
    bus.consumer(
        Addresses.CONSUMER_STOP, m -> transport.stopConsuming().onComplete(ar -> m.reply(null)));
    bus.<Integer>consumer(Addresses.CONSUMER_SLOTS_FREED, m -> consumer.slotsFreed(m.body()));
    if (options.isDisablePrefetch()) {
      transport.pullOnly();
    }
    bus.<FanoutSubscription>consumer(
        Addresses.CONSUMER_FANOUT,
        m ->
            transport
                .consumeFanout(m.body().binding(), d -> bus.send(m.body().address(), d))
                .onSuccess(v -> m.reply(null))
                .onFailure(err -> m.fail(500, err.getMessage())));
    transport.connectionLostHandler(
        gen -> {
          toPool.flush(); // the lost generation's requests reach the pool before the forget
          consumer.connectionLost(gen);
          bus.send(Addresses.POOL_FORGET_GENERATION, gen);
        });
    long every = Math.max(1000, Math.min(30_000, (long) (options.getUnsettledDeadline() * 250)));
    vertx.setPeriodic(every, every, id -> consumer.checkUnsettled());
    // Deployed without waiting for the broker: while the transport retries, /ready answers "not
    // ready".
    return consumer
        .load()
        .onSuccess(
            v -> {
              transport.start(consumer::onDelivery).onComplete(connected);
              consumer.slotsFreed(options.getConcurrency());
            });
  }

  /**
   * Completes at the first broker connection; fails when the transport gives up retrying at
   * start-up.
   */
  public Future<Void> connected() {
    return connected.future();
  }

  /** The task ids of the requests the pool holds, reserved or running. */
  private Future<Set<String>> poolTaskIds() {
    return vertx
        .eventBus()
        .<ControlRequests.PoolRequests>request(Addresses.POOL_REQUESTS, null)
        .map(m -> m.body().taskIds());
  }

  private ConsumerStats stats() {
    return new ConsumerStats(
        Urls.redact(options.getBroker()),
        transport.isConnected(),
        transport.toString(),
        transport.reconnects(),
        consumer.appliedPrefetch(),
        consumer.received(),
        consumer.unsettledCount(),
        consumer.unsettledStuck(),
        consumer.etaHeld(),
        consumer.rateLimited(),
        consumer.revokedCount(),
        options.getQueues());
  }

  /** Remote-control queries and commands answered from the consumer's state. */
  private void controlHandlers(EventBus bus) {
    bus.<ControlRequests.Revoke>consumer(
        Addresses.CONSUMER_REVOKE,
        m -> {
          consumer.revoke(m.body().ids());
          m.reply(null);
        });
    bus.<ControlRequests.RateLimit>consumer(
        Addresses.CONSUMER_RATE_LIMIT,
        m -> m.reply(consumer.rateLimit(m.body().task(), m.body().rateLimit())));
    bus.consumer(
        Addresses.CONSUMER_SCHEDULED,
        m ->
            consumer
                .scheduled()
                .onSuccess(held -> m.reply(new ControlRequests.Scheduled(held)))
                .onFailure(err -> m.fail(500, err.toString())));
    bus.consumer(
        Addresses.CONSUMER_QUEUES,
        m -> {
          JsonArray out = new JsonArray();
          transport
              .queues()
              .forEach(q -> out.add(ActiveQueues.describe(q, options.getQueueMaxPriority())));
          m.reply(out);
        });
    bus.<String>consumer(
        Addresses.CONSUMER_ADD_QUEUE,
        m -> {
          String queue = m.body();
          transport
              .addQueue(queue)
              .onSuccess(v -> m.reply(new JsonObject().put("ok", "add consumer " + queue)))
              .onFailure(err -> m.reply(new JsonObject().put("error", err.getMessage())));
        });
    bus.<String>consumer(
        Addresses.CONSUMER_CANCEL_QUEUE,
        m -> {
          String queue = m.body();
          transport
              .cancelQueue(queue)
              .onComplete(
                  ar -> m.reply(new JsonObject().put("ok", "no longer consuming from " + queue)));
        });
    bus.consumer(
        Addresses.CONSUMER_REVOKED,
        m -> m.reply(new JsonObject(new LinkedHashMap<>(consumer.revoked()))));
  }

  @Override
  public Future<?> stop() {
    // Held requests go back to the broker (warm or cold shutdown alike); the revoked ids to the
    // state file.
    return consumer.stop().compose(v -> transport.flush()).compose(v -> transport.close());
  }
}

package io.celerity.consumer;

import io.celerity.Addresses;
import io.celerity.config.Urls;
import io.celerity.config.WorkerOptions;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.MessageDecoder;
import io.celerity.protocol.States;
import io.celerity.result.TaskOutcome;
import io.celerity.task.TaskRegistry;
import io.celerity.transport.Delivery;
import io.celerity.transport.OutgoingMessage;
import io.celerity.transport.Transport;
import io.celerity.transport.TransportOptions;
import io.celerity.transport.Transports;
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

  private final TaskRegistry registry;
  private WorkerOptions options;
  private Transport transport;
  private Strategy strategy;
  private long received;
  private int prefetch;
  /** ETA requests held until due, by timer id. */
  private final java.util.Map<Long, Request> held = new java.util.HashMap<>();

  public ConsumerVerticle(TaskRegistry registry) {
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    options = new WorkerOptions(config());
    strategy = new Strategy(new MessageDecoder(), registry, options);
    prefetch = options.getPrefetchCount();
    transport = Transports.create(vertx, new TransportOptions(options.getBroker(), options.getQueues(), prefetch,
      options.getQueueMaxPriority(), options.getReconnectMaxDelayMs(), "celerity " + options.getHostname(),
      options.getBrokerTransportOptions().getMap()));
    var bus = vertx.eventBus();
    bus.<Settle>consumer(Addresses.CONSUMER_SETTLE, m -> settle(m.body()));
    bus.<OutgoingMessage>consumer(Addresses.BROKER_PUBLISH, m -> transport.publish(m.body())
      .onSuccess(v -> m.reply(null))
      .onFailure(err -> m.fail(500, err.getMessage())));
    bus.consumer(Addresses.CONSUMER_STATS, m -> m.reply(stats()));
    bus.consumer(Addresses.CONSUMER_STOP, m -> transport.stopConsuming().onComplete(ar -> m.reply(null)));
    transport.connectionLostHandler(gen -> {
      forgetHeld(gen);
      bus.send(Addresses.POOL_FORGET_GENERATION, gen);
    });
    return transport.start(this::onDelivery);
  }

  private void onDelivery(Delivery delivery) {
    received++;
    Strategy.Decision decision = strategy.decide(delivery);
    if (decision instanceof Strategy.Run run) {
      accept(run.request());
    } else if (decision instanceof Strategy.Invalid invalid) {
      log.error("Received invalid task message: {}. The message has been rejected.", invalid.reason());
      transport.reject(delivery, false);
    } else if (decision instanceof Strategy.Undecodable bad) {
      log.error("Can't decode message body: {} (type:{} encoding:{}). The message has been acked and dropped.",
        bad.reason(), delivery.contentType(), delivery.contentEncoding());
      transport.ack(delivery);
    } else if (decision instanceof Strategy.Unregistered unknown) {
      log.error("Received unregistered task of type '{}'.\nThe message has been ignored and discarded.",
        unknown.message().task());
      transport.reject(delivery, false);
      vertx.eventBus().send(Addresses.RESULT_OUTCOME, new TaskOutcome(null, unknown.message(), States.FAILURE, null,
        ExceptionInfo.notRegistered(unknown.message().task()), 0));
    }
  }

  private void accept(Request request) {
    if (log.isInfoEnabled()) {
      log.info("Task {} received", request.logName());
    }
    Instant eta = request.message().eta();
    long delayMs = eta == null ? 0 : eta.toEpochMilli() - System.currentTimeMillis();
    if (delayMs <= 0) {
      vertx.eventBus().send(Addresses.POOL_APPLY, request);
      return;
    }
    // Held unacked until due; like Celery, each held task raises the prefetch by one so the
    // held ones do not starve the pool.
    long timer = vertx.setTimer(delayMs, id -> {
      held.remove(id);
      transport.prefetch(prefetch + held.size());
      vertx.eventBus().send(Addresses.POOL_APPLY, request);
    });
    held.put(timer, request);
    transport.prefetch(prefetch + held.size());
  }

  /** Drops held ETA requests of a lost connection: the broker redelivers them. */
  private void forgetHeld(long generation) {
    held.entrySet().removeIf(e -> {
      if (e.getValue().delivery().generation() <= generation) {
        vertx.cancelTimer(e.getKey());
        return true;
      }
      return false;
    });
    transport.prefetch(prefetch + held.size());
  }

  private void settle(Settle s) {
    switch (s.action()) {
      case ACK -> transport.ack(s.delivery());
      case REJECT -> transport.reject(s.delivery(), false);
      case REQUEUE -> transport.reject(s.delivery(), true);
    }
  }

  private JsonObject stats() {
    return new JsonObject()
      .put("broker", Urls.redact(options.getBroker()))
      .put("connected", transport.isConnected())
      .put("reconnects", transport.reconnects())
      .put("prefetch_count", prefetch + held.size())
      .put("received", received)
      .put("eta_held", held.size())
      .put("queues", options.getQueues());
  }

  @Override
  public Future<?> stop() {
    Future<Void> flushed = transport instanceof io.celerity.transport.amqp.AmqpTransport amqp ? amqp.flush() : Future.succeededFuture();
    return flushed.compose(v -> transport.close());
  }
}

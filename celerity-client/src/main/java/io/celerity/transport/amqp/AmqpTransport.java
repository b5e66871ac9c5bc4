package io.celerity.transport.amqp;

import com.rabbitmq.client.AMQP;
import io.celerity.transport.ConnectionLifecycle;
import io.celerity.transport.FanoutBinding;
import io.celerity.transport.PullSupport;
import io.celerity.transport.QueueDeclarationException;
import io.celerity.transport.QueueTopology;
import io.celerity.transport.Tls;
import io.celerity.transport.TransportOptions;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.rabbitmq.QueueOptions;
import io.vertx.rabbitmq.RabbitMQClient;
import io.vertx.rabbitmq.RabbitMQConfirmation;
import io.vertx.rabbitmq.RabbitMQMessage;
import io.vertx.rabbitmq.RabbitMQOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RabbitMQ transport with Celery's topology: task messages are consumed on a {@link
 * ConsumerConnection} of their own (deliveries and acks on the event loop); declaring, publishing
 * (with confirms) and the fanout consumers (pidbox, events) use the Vert.x RabbitMQ client.
 *
 * <p>Reconnection is ours, not the client's: the client neither re-applies QoS nor guards against
 * acks with delivery tags of a dead channel (which make RabbitMQ close the new channel). The {@link
 * ConnectionLifecycle} gives every connection a new generation; on loss we back off, reconnect,
 * re-declare, re-apply QoS and restart every consumer, and acks of older generations are dropped.
 *
 * <p>Only the loss of the consumer connection costs the reserved messages. The publishing side (the
 * Vert.x client: declares, publishes, fanout consumers) is replaced on its own when RabbitMQ closes
 * its channel, as it does for a publish to an exchange that does not exist (a pidbox {@code
 * reply_to} exchange, a link's {@code exchange} option): the publishes in flight fail, the task
 * consumer keeps its connection and nothing is redelivered.
 */
public class AmqpTransport extends PullSupport {

  private static final Logger log = LoggerFactory.getLogger(AmqpTransport.class);
  private static final long SUPERVISE_INTERVAL_MS = 500;

  /**
   * {@code broker_transport_options} key choosing the task consumer's connection: {@code loop} (the
   * default, on the event loop) or {@code client} (the RabbitMQ Java client).
   */
  public static final String CONSUMER_CONNECTION = "consumer_connection";

  /** Celery's {@code event_exchange}. */
  public static final String EVENT_EXCHANGE = "celeryev";

  /**
   * Where remote-control replies go (Celery's {@code reply.celery.pidbox}, direct, non-durable).
   */
  public static final String REPLY_EXCHANGE = "reply.celery.pidbox";

  private final Vertx vertx;
  private final TransportOptions options;

  /**
   * Failover: the broker URLs ({@code amqp://h1//;amqp://h2//}), tried in turn ({@code
   * broker_failover_strategy}).
   */
  private final AmqpFailover failover;

  /** The node connected to now, or tried last. */
  private AmqpUrl url;

  /** Task queues to their type as the broker has them ({@code classic}, {@code quorum}). */
  private final Map<String, String> queueTypes = new ConcurrentHashMap<>();

  /**
   * Consumers got per-consumer prefetch (a quorum queue is consumed): changes apply to new
   * consumers only.
   */
  private boolean perConsumerQos;

  /**
   * The prefetch count last sent to the broker on this connection. Deliveries start before the
   * connection counts as connected, and each ETA task held then raises {@link #prefetch}: the
   * difference is sent once connected, or the window stays at its start value and a backlog of ETA
   * tasks fills it for good.
   */
  private int appliedPrefetch;

  private final AckBatcher acks = new AckBatcher();
  private final Map<Long, Promise<Void>> unconfirmed = new ConcurrentHashMap<>();

  /** Below the event bus's 30 s reply timeout, so the publisher learns why. */
  static final long PUBLISH_CONFIRM_TIMEOUT_MS = 15_000;

  /** Task-queue consumers on {@link #consumer}: queue to consumer tag. */
  private final Map<String, String> consumers = new java.util.LinkedHashMap<>();

  private final List<String> queues;
  private final Map<FanoutBinding, Handler<Delivery>> fanouts = new java.util.LinkedHashMap<>();

  /**
   * Exchanges declared for publishing ({@link OutgoingMessage#DECLARE_EXCHANGE}) on the current
   * publishing client.
   */
  private final java.util.Set<String> declaredExchanges = new java.util.HashSet<>();

  /** Queues declared for publishing ({@link #declareQueue}) on the current publishing client. */
  private final java.util.Set<String> declaredQueues = new java.util.HashSet<>();

  /** The fanout bindings consumed on the current publishing client. */
  private final java.util.Set<FanoutBinding> fanoutsUp = new java.util.HashSet<>();

  private final ConnectionLifecycle lifecycle;
  private Context context;
  private Handler<Delivery> handler;

  /** The publishing side: declares, publishes with confirms, fanout consumers. */
  private RabbitMQClient client;

  /** Completes when a replaced publishing side is up again; publishes wait for it. */
  private Future<Void> publisherReopened;

  private ConsumerConnection consumer;
  private boolean consuming = true;

  /** Pull mode (disable_prefetch): a basic.get is in flight; queues found empty in a row. */
  private boolean pulling;

  private int emptyPolls;
  private int nextQueue;
  private boolean flushScheduled;
  private int prefetch;
  private long superviseTimer = -1;
  private Handler<Long> lostHandler = gen -> {};
  private static final long STALL_CHECK_NANOS = 5_000_000_000L;
  private long lastDeliveryNanos = System.nanoTime();
  private long lastStallCheckNanos = System.nanoTime();
  private boolean stallSuspected;

  public AmqpTransport(Vertx vertx, TransportOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.failover =
        new AmqpFailover(
            options.url(), options.topology().failoverStrategy(), new java.util.Random());
    this.url = failover.current();
    this.prefetch = options.prefetch();
    this.queues = new ArrayList<>(options.queues());
    this.lifecycle =
        new ConnectionLifecycle(
            failover.redacted(),
            ConnectionLifecycle.Policy.of(options),
            ConnectionLifecycle.Timers.of(vertx),
            log);
    lifecycle.onLost(this::onLost);
  }

  private long generation() {
    return lifecycle.generation();
  }

  @Override
  public Future<Void> start(Handler<Delivery> handler) {
    this.context = vertx.getOrCreateContext();
    this.handler = handler;
    superviseTimer = vertx.setPeriodic(SUPERVISE_INTERVAL_MS, id -> supervise());
    return lifecycle.start(this::connect);
  }

  private RabbitMQClient newClient() {
    return RabbitMQClient.create(vertx, publisherOptions(url, options.connectionName()));
  }

  /** The publishing connection's options (the Vert.x client's). */
  static RabbitMQOptions publisherOptions(AmqpUrl url, String connectionName) {
    RabbitMQOptions ro =
        new RabbitMQOptions()
            .setHost(url.host())
            .setPort(url.port())
            .setUser(url.user())
            .setPassword(url.password())
            .setVirtualHost(url.vhost())
            .setSsl(url.ssl())
            .setAutomaticRecoveryEnabled(false)
            .setReconnectAttempts(0)
            .setConnectionTimeout(10_000)
            .setRequestedHeartbeat(60)
            .setConnectionName(connectionName);
    if (url.ssl()) {
      // the client hands its TLS context to a plain socket factory, which never checks host names:
      // ours does
      ro.setTrustOptions(Tls.vertxTrust())
          .setHostnameVerificationAlgorithm(Tls.HOSTNAME_VERIFICATION);
    }
    return ro;
  }

  /** Opens the publishing side: a client with publisher confirms and our exchanges declared. */
  private Future<Void> openPublisher(RabbitMQClient c) {
    declaredExchanges.clear();
    declaredQueues.clear();
    return c.start()
        .compose(v -> c.confirmSelect())
        .compose(v -> c.addConfirmListener(Integer.MAX_VALUE))
        .compose(
            stream -> {
              stream.handler(
                  m -> {
                    if (c == client) {
                      onConfirm(m);
                    }
                  });
              return c.exchangeDeclare(
                  EVENT_EXCHANGE,
                  "topic",
                  true,
                  false); // a publish to a missing exchange closes the channel
            })
        .compose(v -> c.exchangeDeclare(REPLY_EXCHANGE, "direct", false, false));
  }

  /** One connection attempt of generation {@code gen}, run by the lifecycle. */
  private Future<Void> connect(long gen) {
    url = failover.forAttempt();
    RabbitMQClient c = newClient();
    client = c;
    publisherReopened = null;
    consumer = null;
    acks.reset();
    return openPublisher(c)
        .compose(
            v ->
                openConsumer(gen, why -> lifecycle.lost(gen, "consumer connection closed: " + why)))
        .compose(
            cc -> {
              if (gen != generation()) {
                cc.close();
                return Future.failedFuture("superseded");
              }
              consumer = cc;
              return declareAll(cc);
            })
        .compose(
            v -> {
              // Quorum queues refuse global QoS (540 NOT_IMPLEMENTED): as Celery 5.5, per-consumer
              // prefetch then.
              perConsumerQos = queueTypes.containsValue(QueueTopology.QUORUM);
              appliedPrefetch = prefetch;
              return consumer.qos(prefetch, !perConsumerQos);
            })
        .compose(v -> consuming && !pull ? consumeAll(consumer, gen) : Future.succeededFuture())
        .compose(v -> fanoutAll(c, gen))
        .onSuccess(
            v -> {
              lastDeliveryNanos = System.nanoTime();
              failover.connected();
              log.info(
                  "{} to {} (prefetch {}{}, queues {})",
                  lifecycle.everConnected() ? "Reconnected" : "Connected",
                  url.redacted(),
                  pull ? "off: pull" : prefetch,
                  perConsumerQos ? " per consumer" : "",
                  queueTypes);
              pulling = false;
              // The lifecycle turns CONNECTED right after this: pump and flush then.
              context.runOnContext(
                  x -> {
                    if (lifecycle.isCurrent(gen)) {
                      if (prefetch != appliedPrefetch) {
                        prefetch(prefetch);
                      }
                      pump();
                      // Deliveries start as soon as the consumers do, before the rest of the set-up
                      // finished:
                      // acks that came in meanwhile waited for "connected" and must go out now, or
                      // the prefetch
                      // window stays full of settled-but-unacked messages and consumption stops.
                      flushAcks();
                    }
                  });
            })
        .recover(
            err -> {
              c.stop();
              if (consumer != null && gen == generation()) {
                consumer.close();
                consumer = null;
              }
              failover.failed();
              return Future.failedFuture(
                  err instanceof QueueDeclarationException
                      ? err
                      : new io.vertx.core.VertxException(
                          url.redacted() + ": " + ConnectionLifecycle.describe(err), err));
            });
  }

  /** {@link #CONSUMER_CONNECTION} as configured, {@code loop} when not. */
  private Object consumerConnection() {
    return options.transportOptions().getOrDefault(CONSUMER_CONNECTION, ConsumerConnection.LOOP);
  }

  private Future<ConsumerConnection> openConsumer(long gen, Handler<String> lost) {
    String name = options.connectionName() + " (consumer)";
    Object kind = consumerConnection();
    if (ConsumerConnection.CLIENT.equals(kind)) {
      return ClientConsumerConnection.open(context, url, name, gen, lost);
    }
    if (!ConsumerConnection.LOOP.equals(kind)) {
      return Future.failedFuture(
          new IllegalArgumentException(
              "broker_transport_options "
                  + CONSUMER_CONNECTION
                  + ": '"
                  + kind
                  + "' is neither 'loop' nor 'client'"));
    }
    return LoopConsumerConnection.open(vertx, context, url, name, gen, lost);
  }

  /**
   * RabbitMQ closed the publishing channel (a publish to a missing exchange) or its connection: the
   * publishes in flight fail, and a new publishing side is opened, with the fanout consumers on it.
   * The task consumer keeps its connection: no reserved message is redelivered.
   */
  private void reopenPublisher(long gen, String why) {
    if (publisherReopened != null || !lifecycle.isCurrent(gen)) {
      return;
    }
    log.warn(
        "Publishing channel to {} closed ({}); reopening it, the task consumer keeps its connection",
        url.redacted(),
        why);
    failUnconfirmed("publishing channel closed by the broker (" + why + ")");
    RabbitMQClient old = client;
    old.stop();
    RabbitMQClient c = newClient();
    client = c;
    Promise<Void> ready = Promise.promise();
    publisherReopened = ready.future();
    openPublisher(c)
        .compose(v -> fanoutAll(c, gen))
        .onComplete(
            ar -> {
              if (client != c) {
                c.stop();
                ready.tryFail("connection replaced");
                return;
              }
              publisherReopened = null;
              if (ar.succeeded()) {
                log.info("Publishing channel to {} reopened", url.redacted());
                ready.complete();
              } else {
                ready.tryFail(ar.cause());
                lifecycle.lost(
                    gen,
                    "cannot reopen the publishing channel: "
                        + ConnectionLifecycle.describe(ar.cause()));
              }
            });
  }

  private Future<Void> declareAll(ConsumerConnection cc) {
    Future<Void> f = Future.succeededFuture();
    for (String q : queues) {
      f = f.compose(v -> declareQueue(cc, q));
    }
    return f;
  }

  /**
   * Celery's task queue: a durable direct exchange named like the queue, bound with the queue name
   * as key, of the configured type (or the type it has, detected); with native delayed delivery for
   * it, the delay topology too, and the queue bound to receive what comes out of it.
   */
  private Future<Void> declareQueue(ConsumerConnection cc, String q) {
    QueueTopology t = options.topology();
    return cc.declareTaskQueue(
            q, t.queueType(), options.queueMaxPriority(), t.queueArguments(), t.detectQuorum())
        .compose(
            type -> {
              queueTypes.put(q, type);
              return t.delaysInBroker(type)
                  ? cc.declareDelayedDelivery(t.delayedQueueType(), Map.of(q, q))
                  : Future.succeededFuture();
            });
  }

  /**
   * Whether ETA messages of {@code queue} can wait in the broker's native delayed delivery queues.
   */
  @Override
  public boolean canDelay(String queue) {
    String type = queueTypes.get(queue);
    return type != null && options.topology().delaysInBroker(type);
  }

  /**
   * Sends a copy of {@code d} through the native delayed delivery topology: it comes back to its
   * queue after {@code seconds}. Completes when the broker confirmed the copy (then {@code d} may
   * be acked).
   */
  @Override
  public Future<Void> delay(Delivery d, long seconds) {
    Map<String, Object> headers =
        new java.util.LinkedHashMap<>(d.headers() == null ? Map.of() : d.headers());
    headers
        .keySet()
        .removeIf(
            k ->
                k.startsWith("x-death")
                    || k.startsWith("x-first-death")
                    || k.startsWith("x-last-death")
                    || k.equals("x-delivery-count"));
    Map<String, Object> props = new java.util.HashMap<>();
    props.put("correlation_id", d.correlationId());
    props.put("reply_to", d.replyTo());
    props.put("priority", d.priority());
    return publish(
        new OutgoingMessage(
            AmqpQueues.levelName(AmqpQueues.LEVELS - 1),
            AmqpQueues.delayedRoutingKey(
                Math.min(seconds, AmqpQueues.MAX_DELAY_SECONDS), d.queue()),
            d.body(),
            d.contentType(),
            d.contentEncoding(),
            headers,
            props));
  }

  private Future<Void> consumeAll(ConsumerConnection cc, long gen) {
    Future<Void> f = Future.succeededFuture();
    for (String q : queues) {
      f = f.compose(v -> consume(cc, gen, q));
    }
    return f;
  }

  private Future<Void> consume(ConsumerConnection cc, long gen, String q) {
    return cc.consume(
            q,
            new ConsumerConnection.Deliveries() {
              @Override
              public void delivered(Delivery d) {
                onMessage(d);
              }

              @Override
              public void undecodable(String queue, long deliveryTag, String why) {
                AmqpTransport.this.undecodable(gen, queue, deliveryTag, why);
              }
            },
            queue -> {
              if (lifecycle.isCurrent(gen) && consuming && consumers.containsKey(queue)) {
                lifecycle.lost(gen, "the broker cancelled our consumer of queue " + queue);
              }
            })
        .map(
            tag -> {
              consumers.put(q, tag);
              return null;
            });
  }

  private Future<Void> fanoutAll(RabbitMQClient c, long gen) {
    fanoutsUp.clear();
    Future<Void> f = Future.succeededFuture();
    for (Map.Entry<FanoutBinding, Handler<Delivery>> e : fanouts.entrySet()) {
      f = f.compose(v -> fanout(c, gen, e.getKey(), e.getValue()));
    }
    return f;
  }

  private Future<Void> fanout(RabbitMQClient c, long gen, FanoutBinding b, Handler<Delivery> h) {
    // No exchange: a reply queue on the default exchange (Celery's rpc:// results), declared and
    // consumed only.
    // celeryev is Celery's durable topic exchange (an event monitor binds to it with '#'); the rest
    // are fanouts.
    boolean viaDefault = b.exchange() == null || b.exchange().isEmpty();
    boolean events = EVENT_EXCHANGE.equals(b.exchange());
    Future<Void> declared =
        viaDefault
            ? Future.succeededFuture()
            : c.exchangeDeclare(b.exchange(), events ? "topic" : "fanout", events, false);
    return declared
        .compose(
            v ->
                c.queueDeclare(
                    b.queue(),
                    false,
                    false,
                    true,
                    new JsonObject(new java.util.HashMap<>(b.queueArguments()))))
        .compose(
            v ->
                viaDefault
                    ? Future.succeededFuture()
                    : c.queueBind(b.queue(), b.exchange(), b.routingKey()))
        .compose(v -> c.basicConsumer(b.queue(), new QueueOptions().setAutoAck(true)))
        .map(
            consumer -> {
              fanoutsUp.add(b);
              consumer.handler(
                  m -> {
                    if (gen == generation()) {
                      h.handle(toDelivery(m, b.queue(), gen));
                    }
                  });
              return null;
            });
  }

  /** The connection's bookkeeping, for stats and diagnosis. */
  @Override
  public String toString() {
    return "amqp["
        + lifecycle
        + " consuming="
        + consuming
        + " node="
        + url.redacted()
        + " queues="
        + queueTypes
        + " consumers="
        + consumers.size()
        + " on "
        + consumerConnection()
        + " prefetch="
        + prefetch
        + (perConsumerQos ? " per consumer" : "")
        + " unsettled="
        + acks.unsettledCount()
        + " ackPending="
        + acks.hasPending()
        + " lastDeliveryMsAgo="
        + (System.nanoTime() - lastDeliveryNanos) / 1_000_000
        + "]";
  }

  @Override
  protected void creditGranted() {
    pump();
  }

  /**
   * Pull mode: one basic.get at a time while there is credit, round robin over the queues; when
   * every queue came back empty, wait a little (backing off to 250 ms) before asking again.
   */
  private void pump() {
    if (!pull
        || pulling
        || credit <= 0
        || !lifecycle.isConnected()
        || !consuming
        || queues.isEmpty()) {
      return;
    }
    pulling = true;
    long gen = generation();
    String q = queues.get(nextQueue++ % queues.size());
    consumer
        .get(q)
        .onComplete(
            ar -> {
              if (gen != generation()) {
                return;
              }
              pulling = false;
              if (ar.succeeded() && ar.result() != null) {
                emptyPolls = 0;
                credit--;
                onMessage(ar.result());
                pump();
              } else if (ar.failed() && ar.cause() instanceof UndecodableDelivery u) {
                emptyPolls = 0;
                undecodable(gen, q, u.deliveryTag, u.getMessage());
                pump();
              } else if (++emptyPolls < queues.size()) {
                pump();
              } else {
                long delay = Math.min(250, 10L << Math.min(5, emptyPolls / queues.size()));
                vertx.setTimer(delay, id -> pump());
              }
            });
  }

  /**
   * A delivery whose content header could not be read: rejected without requeue (dead-lettered
   * where the queue has a dead-letter exchange), so it neither blocks the prefetch window nor comes
   * back to stall the next worker.
   */
  private void undecodable(long gen, String queue, long deliveryTag, String why) {
    if (gen != generation()) {
      return;
    }
    log.error(
        "Rejecting delivery {} from queue {}: its properties cannot be decoded ({})",
        deliveryTag,
        queue,
        why);
    acks.delivered(deliveryTag);
    reject(deliveryTag, false);
  }

  /** A basic.get's message whose content header could not be read. */
  static final class UndecodableDelivery extends RuntimeException {
    final long deliveryTag;

    UndecodableDelivery(long deliveryTag, String why) {
      super(why, null, false, false);
      this.deliveryTag = deliveryTag;
    }
  }

  private void onMessage(Delivery d) {
    if (d.generation() != generation()) {
      log.debug(
          "Ignoring delivery {} of connection {}: the broker requeued it already",
          d.deliveryTag(),
          d.generation());
      return; // a late delivery of a dead channel
    }
    lastDeliveryNanos = System.nanoTime();
    acks.delivered((Long) d.deliveryTag());
    handler.handle(d);
  }

  private static Delivery toDelivery(RabbitMQMessage m, String queue, long gen) {
    return toDelivery(m.envelope(), m.properties(), m.body().getBytes(), queue, gen);
  }

  static Delivery toDelivery(
      com.rabbitmq.client.Envelope env,
      com.rabbitmq.client.BasicProperties p,
      byte[] body,
      String queue,
      long gen) {
    return new Delivery(
        body,
        p.getContentType(),
        p.getContentEncoding(),
        AmqpValues.fromTable(p.getHeaders()),
        p.getCorrelationId(),
        p.getReplyTo(),
        p.getPriority(),
        env.getExchange(),
        env.getRoutingKey(),
        queue,
        env.isRedeliver(),
        env.getDeliveryTag(),
        gen);
  }

  private void supervise() {
    if (!lifecycle.isConnected()) {
      return;
    }
    long gen = generation();
    if (consumer == null || !consumer.isOpen()) {
      lifecycle.lost(gen, "consumer connection closed");
      return;
    }
    if (publisherReopened == null && (!client.isConnected() || !client.isOpenChannel())) {
      reopenPublisher(gen, client.isConnected() ? "channel closed" : "connection closed");
    }
    flushAcks(); // cheap when nothing is pending; never leave acks waiting for a trigger
    long now = System.nanoTime();
    if (consuming && !pull && now - lastStallCheckNanos > STALL_CHECK_NANOS) {
      lastStallCheckNanos = now;
      checkStalled(gen);
    }
  }

  /**
   * The watchdog against Celery's most reported failure, a worker that silently stops consuming:
   * when we have room in the prefetch window, messages are ready in our queues, and yet nothing was
   * delivered for two checks in a row, the channel is treated as broken and reconnected.
   */
  private void checkStalled(long gen) {
    boolean room = prefetch == 0 || acks.unsettledCount() < prefetch;
    if (!room || System.nanoTime() - lastDeliveryNanos < STALL_CHECK_NANOS) {
      stallSuspected = false;
      return;
    }
    RabbitMQClient c = client;
    List<Future<Long>> counts = new ArrayList<>();
    queues.forEach(q -> counts.add(c.messageCount(q)));
    Future.all(counts)
        .onSuccess(
            cf -> {
              long ready = counts.stream().mapToLong(Future::result).sum();
              if (!lifecycle.isCurrent(gen)
                  || ready == 0
                  || System.nanoTime() - lastDeliveryNanos < STALL_CHECK_NANOS) {
                stallSuspected = false;
              } else if (!stallSuspected) {
                stallSuspected = true;
              } else {
                stallSuspected = false;
                lifecycle.lost(
                    gen,
                    "no delivery for "
                        + 2 * STALL_CHECK_NANOS / 1_000_000_000L
                        + " s although "
                        + ready
                        + " message(s) are ready and the prefetch window has room; restarting the broker connection");
              }
            });
  }

  /**
   * The lifecycle's LOST step: both connections go, the reserved deliveries of {@code gen} are the
   * broker's again.
   */
  private void onLost(long gen) {
    log.warn("{} unacked deliveries will be redelivered by the broker", acks.unsettledCount());
    failover.failed();
    failUnconfirmed("connection lost");
    consumers.clear();
    acks.reset();
    publisherReopened = null;
    client.stop();
    if (consumer != null) {
      consumer.close();
      consumer = null;
    }
    lostHandler.handle(gen);
  }

  private void onConfirm(RabbitMQConfirmation c) {
    if (c.isMultiple()) {
      unconfirmed
          .keySet()
          .removeIf(
              tag -> {
                if (tag <= c.getDeliveryTag()) {
                  settleConfirm(unconfirmed.get(tag), c.isSucceeded());
                  return true;
                }
                return false;
              });
    } else {
      settleConfirm(unconfirmed.remove(c.getDeliveryTag()), c.isSucceeded());
    }
  }

  private static void settleConfirm(Promise<Void> p, boolean ok) {
    if (p != null) {
      if (ok) {
        p.tryComplete();
      } else {
        p.tryFail("broker refused the message (basic.nack)");
      }
    }
  }

  private void failUnconfirmed(String why) {
    unconfirmed.values().forEach(p -> p.tryFail(why));
    unconfirmed.clear();
  }

  @Override
  public Future<Void> stopConsuming() {
    consuming = false;
    List<String> toCancel = new ArrayList<>(consumers.values());
    consumers.clear();
    return cancel(toCancel);
  }

  private Future<Void> cancel(List<String> consumerTags) {
    if (consumer == null || consumerTags.isEmpty()) {
      return Future.succeededFuture();
    }
    return consumer
        .cancel(consumerTags)
        .timeout(10, java.util.concurrent.TimeUnit.SECONDS)
        .recover(err -> Future.succeededFuture());
  }

  @Override
  public Future<Void> resumeConsuming() {
    if (consuming) {
      return Future.succeededFuture();
    }
    consuming = true;
    if (pull) {
      pump();
      return Future.succeededFuture();
    }
    return lifecycle.isConnected() ? consumeAll(consumer, generation()) : Future.succeededFuture();
  }

  @Override
  public Future<Void> consumeFanout(FanoutBinding binding, Handler<Delivery> h) {
    fanouts.put(binding, h);
    if (lifecycle.isConnected()) {
      return fanout(client, generation(), binding, h);
    }
    // Set up at the (re)connect; if it is under way now, this binding may come after its fanout
    // step:
    // wait for it (a few seconds at most, so a worker starting while the broker is down is not
    // held).
    long gen = generation();
    return lifecycle
        .whenConnected()
        .compose(
            v ->
                generation() == gen && !fanoutsUp.contains(binding)
                    ? fanout(client, gen, binding, h)
                    : Future.succeededFuture())
        .timeout(5, java.util.concurrent.TimeUnit.SECONDS)
        .otherwiseEmpty();
  }

  @Override
  public Future<Void> declareQueue(String queue) {
    if (!lifecycle.isConnected()) {
      return lifecycle.whenConnected().compose(v -> declareQueue(queue));
    }
    if (queues.contains(queue) || !declaredQueues.add(queue)) {
      return Future.succeededFuture();
    }
    return declareQueue(consumer, queue).onFailure(err -> declaredQueues.remove(queue));
  }

  @Override
  public Future<Void> addQueue(String queue) {
    if (queues.contains(queue)) {
      return Future.succeededFuture();
    }
    queues.add(queue);
    if (!lifecycle.isConnected()) {
      return Future.succeededFuture(); // declared and consumed on (re)connect
    }
    ConsumerConnection cc = consumer;
    long gen = generation();
    return declareQueue(cc, queue)
        .compose(v -> consuming && !pull ? consume(cc, gen, queue) : Future.succeededFuture());
  }

  @Override
  public Future<Void> cancelQueue(String queue) {
    queues.remove(queue);
    String tag = consumers.remove(queue);
    return tag == null ? Future.succeededFuture() : cancel(List.of(tag));
  }

  @Override
  public List<String> queues() {
    return java.util.Collections.unmodifiableList(queues);
  }

  @Override
  public Future<Long> messageCount(String queue) {
    // only queues we consume: a passive declare of a missing queue would close the publishing
    // channel
    RabbitMQClient c = client;
    return c == null || !queues.contains(queue)
        ? Future.failedFuture("not connected or not a consumed queue")
        : c.messageCount(queue);
  }

  @Override
  public Future<Void> prefetch(int count) {
    prefetch = count;
    // Per-consumer prefetch does not change for running consumers; it applies at the next
    // (re)connect.
    if (!lifecycle.isConnected() || perConsumerQos) {
      return Future.succeededFuture();
    }
    appliedPrefetch = count; // qos calls run in order: the last one sent is the broker's
    return consumer.qos(count, true);
  }

  @Override
  public void ack(Delivery d) {
    if (d.generation() != generation() || !acks.ack((Long) d.deliveryTag())) {
      log.debug(
          "Dropping ack of delivery {} from connection {}: already requeued by the broker",
          d.deliveryTag(),
          d.generation());
      return;
    }
    if (!flushScheduled) {
      // At the end of this event-loop task: the acks of one batch of settlements go out as one.
      flushScheduled = true;
      context.runOnContext(
          v -> {
            flushScheduled = false;
            flushAcks();
          });
    }
  }

  private void flushAcks() {
    if (!acks.hasPending() || !lifecycle.isConnected() || consumer == null) {
      return;
    }
    try {
      consumer.ack(acks.drain());
    } catch (java.io.IOException | RuntimeException e) {
      lifecycle.lost(generation(), "ack failed: " + ConnectionLifecycle.describe(e));
    }
  }

  @Override
  public void reject(Delivery d, boolean requeue) {
    if (d.generation() == generation()) {
      reject((Long) d.deliveryTag(), requeue);
    }
  }

  /** Rejects an unsettled delivery of the current connection. */
  private void reject(long deliveryTag, boolean requeue) {
    if (!acks.settle(deliveryTag) || consumer == null) {
      return;
    }
    try {
      consumer.nack(deliveryTag, requeue);
    } catch (java.io.IOException | RuntimeException e) {
      log.warn("Reject of delivery {} failed: {}", deliveryTag, e.getMessage());
    }
  }

  @Override
  public Future<Void> publish(OutgoingMessage m) {
    if (!lifecycle.everConnected() && !lifecycle.isClosing()) {
      return lifecycle
          .whenConnected()
          .compose(v -> publish(m)); // start-up (worker-online): sent once connected
    }
    if (!lifecycle.isConnected()) {
      return Future.failedFuture("not connected to the broker");
    }
    if (publisherReopened == null && !client.isOpenChannel()) {
      reopenPublisher(generation(), "channel closed"); // noticed before the supervisor did
    }
    if (publisherReopened != null) {
      return publisherReopened.compose(v -> publish(m));
    }
    AMQP.BasicProperties.Builder b =
        new AMQP.BasicProperties.Builder()
            .contentType(m.contentType())
            .contentEncoding(m.contentEncoding())
            .headers(AmqpValues.toTable(m.headers()));
    Map<String, Object> p = m.properties() == null ? Map.of() : m.properties();
    if (p.get("correlation_id") != null) {
      b.correlationId(p.get("correlation_id").toString());
    }
    if (p.get("reply_to") != null) {
      b.replyTo(p.get("reply_to").toString());
    }
    b.deliveryMode(p.get("delivery_mode") instanceof Number n ? n.intValue() : 2);
    b.priority(p.get("priority") instanceof Number n ? n.intValue() : 0);
    if (p.get("expiration") != null) {
      b.expiration(p.get("expiration").toString());
    }
    Object declare = p.get(OutgoingMessage.DECLARE_EXCHANGE);
    String exchange = m.exchange() == null ? "" : m.exchange();
    if (declare != null && !exchange.isEmpty() && declaredExchanges.add(exchange)) {
      RabbitMQClient c = client;
      // kombu's declare=[exchange]: declared once per publishing channel, then published
      return c.exchangeDeclare(exchange, declare.toString(), false, false)
          .onFailure(
              err -> {
                declaredExchanges.remove(exchange);
                if (c == client && !c.isOpenChannel()) {
                  reopenPublisher(generation(), ConnectionLifecycle.describe(err));
                }
              })
          .compose(v -> publish(m));
    }
    Promise<Void> confirmed = Promise.promise();
    RabbitMQClient c = client;
    // A publish racing the broker's close of the channel can land on a channel the client opened
    // anew, without confirms: it would wait for ever, and every publish after it too. No confirm in
    // time: it fails, and the publishing side is replaced (which fails the others still waiting).
    long confirmTimer =
        vertx.setTimer(
            PUBLISH_CONFIRM_TIMEOUT_MS,
            id -> {
              if (confirmed.tryFail(
                  "no publisher confirm within " + PUBLISH_CONFIRM_TIMEOUT_MS + " ms")) {
                unconfirmed.values().remove(confirmed);
                if (c == client) {
                  reopenPublisher(generation(), "a publish was not confirmed");
                }
              }
            });
    confirmed.future().onComplete(ar -> vertx.cancelTimer(confirmTimer));
    c.basicPublishWithDeliveryTag(
            m.exchange(),
            m.routingKey(),
            b.build(),
            Buffer.buffer(m.body()),
            tag -> unconfirmed.put(tag, confirmed))
        .onFailure(
            err -> {
              confirmed.tryFail(err);
              // The channel is gone (e.g. closed by a 404 for a missing exchange): only the
              // publishing side is replaced.
              if (c == client && !c.isOpenChannel()) {
                reopenPublisher(generation(), ConnectionLifecycle.describe(err));
              }
            });
    return confirmed.future();
  }

  @Override
  public void connectionLostHandler(Handler<Long> handler) {
    this.lostHandler = handler;
  }

  @Override
  public boolean isConnected() {
    return lifecycle.isConnected();
  }

  @Override
  public long reconnects() {
    return lifecycle.reconnects();
  }

  @Override
  public Future<Void> close() {
    lifecycle.closing();
    if (superviseTimer >= 0) {
      vertx.cancelTimer(superviseTimer);
    }
    failUnconfirmed("transport closed");
    Future<Void> consumerClosed =
        consumer == null
            ? Future.succeededFuture()
            : consumer.close().recover(err -> Future.succeededFuture());
    consumer = null;
    RabbitMQClient c = client;
    return consumerClosed
        .compose(
            v ->
                c == null
                    ? Future.succeededFuture()
                    : c.stop().recover(err -> Future.succeededFuture()))
        .onComplete(ar -> lifecycle.closed());
  }

  /**
   * Writes the pending acks before a clean close, so finished work is not redelivered. Acks are
   * written on this event loop straight into the consumer connection, so once written they are sent
   * ahead of the close; without a connection there is nothing to flush (the broker requeued those
   * deliveries already).
   */
  @Override
  public Future<Void> flush() {
    flushAcks();
    return Future.succeededFuture();
  }
}

package io.celerity.transport.redis;

import io.celerity.transport.ConnectionLifecycle;
import io.celerity.transport.FanoutBinding;
import io.celerity.transport.PullSupport;
import io.celerity.transport.TransportOptions;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kombu's Redis transport on vertx-redis-client: the same keys, envelopes, priority lists, ack
 * emulation and fanout channels as a Python Celery worker, so both can share queues.
 *
 * <p>Split by job: {@link RedisPoller} (the pop loop on a dedicated connection), {@link
 * HeldMessages} (what we hold: keep-fresh, restore, settlements retried until Redis takes them),
 * {@link RedisFanout} (pub/sub on a dedicated connection, with its own lifecycle) and {@link
 * RedisPublisher}; short commands share the client's pool. This class owns the poller's {@link
 * ConnectionLifecycle} and the consumer-facing state (queues, prefetch, pull credit).
 *
 * <p>Unlike kombu, a live worker keeps the messages it holds fresh: every {@code visibility_timeout
 * / 4} it gives each of its tags a new score in {@code unacked_index}. Only the messages of a
 * worker that died (or was cut off longer than the visibility timeout) are ever restored to another
 * worker, so long ETA and {@code acks_late} tasks are not run twice.
 *
 * <p>A lost connection does not lose what we hold: the records stay in {@code unacked} under the
 * publisher's delivery tags, so after reconnecting our acks still apply. Only if some of them were
 * restored by someone else meanwhile do we give up what we hold (a new delivery generation).
 */
public class RedisTransport extends PullSupport {

  private static final Logger log = LoggerFactory.getLogger(RedisTransport.class);

  private final Vertx vertx;
  private final RedisBrokerUrl url;
  private final RedisKeys keys;
  private final Redis commands;
  private final Redis dedicated;
  private final UnackedStore store;
  private final double visibilityTimeout;
  private final ConnectionLifecycle lifecycle;
  private final HeldMessages held;
  private final RedisPoller poller;
  private final RedisFanout fanout;
  private final RedisPublisher publisher;

  /** Consumed task queues, in round-robin order: the queue that just delivered goes last. */
  private final List<String> queues;

  private Handler<Delivery> handler;
  private boolean consuming = true;
  private int prefetch;
  private Handler<Long> lostHandler = gen -> {};

  public RedisTransport(Vertx vertx, TransportOptions options) {
    this.vertx = vertx;
    this.url = RedisBrokerUrl.parse(options.url(), options.transportOptions());
    this.keys = new RedisKeys(url.globalKeyprefix(), url.db());
    this.visibilityTimeout = url.visibilityTimeout();
    this.commands = Redis.createClient(vertx, url.redisOptions(16));
    this.dedicated = Redis.createClient(vertx, url.redisOptions(4));
    this.store = new UnackedStore(commands, keys);
    this.prefetch = options.prefetch();
    this.queues = new ArrayList<>(options.queues());
    ConnectionLifecycle.Timers timers = ConnectionLifecycle.Timers.of(vertx);
    ConnectionLifecycle.Policy policy = ConnectionLifecycle.Policy.of(options);
    this.lifecycle = new ConnectionLifecycle(url.redacted(), policy, timers, log);
    this.held =
        new HeldMessages(vertx, store, visibilityTimeout, epoch -> lostHandler.handle(epoch));
    this.poller =
        new RedisPoller(vertx, this, dedicated, commands, keys, store, held, visibilityTimeout);
    this.fanout =
        new RedisFanout(
            dedicated,
            commands,
            keys,
            new ConnectionLifecycle(
                url.redacted() + " (pub/sub)",
                new ConnectionLifecycle.Policy(
                    policy.initialDelayMs(), policy.maxDelayMs(), true, 0),
                timers,
                log));
    this.publisher = new RedisPublisher(commands, keys, store, fanout);
    lifecycle.onLost(
        gen -> {
          poller.drop();
          log.warn("The {} messages we hold stay ours in unacked", held.size());
        });
  }

  /** Seconds after which a message nobody keeps fresh is restored. */
  public double visibilityTimeout() {
    return visibilityTimeout;
  }

  @Override
  public Future<Void> start(Handler<Delivery> handler) {
    this.handler = handler;
    return lifecycle.start(this::connect).onSuccess(v -> held.startTimers(lifecycle::isConnected));
  }

  /**
   * One connection attempt, run by the lifecycle: declare, open the poller, check what we hold,
   * reclaim.
   */
  private Future<Void> connect(long gen) {
    return declare(queues)
        .compose(v -> poller.open(gen, lifecycle::lost))
        .compose(v -> held.verify())
        .compose(v -> poller.reclaim())
        .onSuccess(
            v -> {
              log.info(
                  "{} to {} (prefetch {}, queues {}, visibility_timeout {}s{})",
                  lifecycle.everConnected() ? "Reconnected" : "Connected",
                  url.redacted(),
                  pull ? "off: pull" : prefetch,
                  queues,
                  visibilityTimeout,
                  held.size() > 0 ? ", " + held.size() + " held messages still ours" : "");
              vertx.runOnContext(
                  x -> { // CONNECTED by now
                    if (lifecycle.isCurrent(gen)) {
                      held.retryNow();
                      poller.poll();
                    }
                  });
            })
        .onFailure(err -> poller.drop());
  }

  /** kombu's queue declaration: the binding of the queue to the default-named exchange. */
  private Future<Void> declare(List<String> qs) {
    if (qs.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Request> sadds = new ArrayList<>();
    for (String q : qs) {
      sadds.add(
          Request.cmd(Command.SADD).arg(keys.binding(q)).arg(RedisKeys.bindingMember(q, "", q)));
    }
    return commands.batch(sadds).mapEmpty();
  }

  // ---- what the poller asks ----

  void pollerFailed(String why) {
    lifecycle.lost(lifecycle.generation(), "poller connection: " + why);
  }

  boolean pullMode() {
    return pull;
  }

  int credit() {
    return credit;
  }

  void tookCredit() {
    credit--;
  }

  int prefetchCount() {
    return prefetch;
  }

  boolean isConsuming() {
    return consuming && !lifecycle.isClosing();
  }

  /** The live, round-robin ordered queue list (the poller rotates it). */
  List<String> queueList() {
    return queues;
  }

  void handle(Delivery d) {
    handler.handle(d);
  }

  // ---- settling ----

  @Override
  public void ack(Delivery d) {
    if (held.release(d)) {
      held.remove((String) d.deliveryTag());
      poller.poll();
    }
  }

  @Override
  public void reject(Delivery d, boolean requeue) {
    if (held.release(d)) {
      if (requeue) {
        held.requeue((String) d.deliveryTag());
      } else {
        held.remove((String) d.deliveryTag());
      }
      poller.poll();
    }
  }

  // ---- fanout, publishing ----

  @Override
  public Future<Void> consumeFanout(FanoutBinding binding, Handler<Delivery> h) {
    return fanout.consume(binding, h);
  }

  @Override
  public Future<Void> publish(OutgoingMessage m) {
    if (lifecycle.isClosing()) {
      return Future.failedFuture("transport closed");
    }
    if (!lifecycle.everConnected()) {
      return lifecycle
          .whenConnected()
          .compose(v -> publish(m)); // start-up (worker-online): sent once connected
    }
    return publisher.publish(m);
  }

  // ---- queues, prefetch, lifecycle ----

  @Override
  public Future<Void> declareQueue(String queue) {
    return declare(List.of(queue));
  }

  @Override
  public Future<Void> addQueue(String queue) {
    if (queues.contains(queue)) {
      return Future.succeededFuture();
    }
    queues.add(queue);
    return declare(List.of(queue))
        .onSuccess(v -> poller.poll()); // a running BRPOP picks it up within a second
  }

  @Override
  public Future<Void> cancelQueue(String queue) {
    queues.remove(queue);
    return Future.succeededFuture();
  }

  @Override
  public List<String> queues() {
    return List.copyOf(queues);
  }

  /** kombu's {@code _size}: the lengths of the queue's lists, one per priority step, added up. */
  @Override
  public Future<Long> messageCount(String queue) {
    List<Request> llens = new ArrayList<>();
    for (int step : io.celerity.transport.redis.RedisKeys.PRIORITY_STEPS) {
      llens.add(Request.cmd(Command.LLEN).arg(keys.list(queue, step)));
    }
    return commands
        .batch(llens)
        .map(rs -> rs.stream().mapToLong(r -> r == null ? 0 : r.toLong()).sum());
  }

  @Override
  public Future<Void> stopConsuming() {
    consuming = false;
    return whenIdle();
  }

  /** No pop or delivery record in flight (a BRPOP returns within its 1 s timeout). */
  private Future<Void> whenIdle() {
    return poller.whenIdle().timeout(3, TimeUnit.SECONDS).otherwiseEmpty();
  }

  @Override
  protected void creditGranted() {
    poller.poll();
  }

  @Override
  public Future<Void> resumeConsuming() {
    consuming = true;
    poller.poll();
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> prefetch(int count) {
    prefetch = count;
    poller.poll();
    return Future.succeededFuture();
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

  /** The delivery tags we hold now. */
  public Set<String> heldTags() {
    return held.tags();
  }

  @Override
  public Future<Void> flush() {
    return held.whenSettled();
  }

  @Override
  public String toString() {
    return "redis["
        + lifecycle
        + " consuming="
        + consuming
        + " held="
        + held.size()
        + " prefetch="
        + prefetch
        + "]";
  }

  /**
   * Closes like kombu's channel: settlements in flight are finished, then every message we still
   * hold is restored to the front of its queue for another worker.
   */
  @Override
  public Future<Void> close() {
    consuming = false;
    return whenIdle()
        .compose(
            v -> {
              lifecycle.closing();
              return held.close();
            })
        .compose(
            v -> {
              poller.close();
              return fanout.close();
            })
        .compose(v -> Future.join(commands.close(), dedicated.close()).otherwiseEmpty())
        .onComplete(ar -> lifecycle.closed())
        .mapEmpty();
  }
}

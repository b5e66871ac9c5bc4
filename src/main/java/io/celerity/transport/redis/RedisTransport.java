package io.celerity.transport.redis;

import io.celerity.protocol.Json;
import io.celerity.transport.Delivery;
import io.celerity.transport.FanoutBinding;
import io.celerity.transport.OutgoingMessage;
import io.celerity.transport.PullSupport;
import io.celerity.transport.Transport;
import io.celerity.transport.TransportOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * kombu's Redis transport on vertx-redis-client: the same keys, envelopes, priority lists, ack
 * emulation and fanout channels as a Python Celery worker, so both can share queues.
 *
 * <p>Three kinds of connection: the client's pool for short commands (publish, ack, restore), one
 * dedicated connection blocked in {@code BRPOP} (1 s timeout, so stopping is prompt), and one
 * dedicated pub/sub connection for fanout bindings, opened on first use.
 *
 * <p>Unlike kombu, a live worker keeps the messages it holds fresh: every
 * {@code visibility_timeout / 4} it gives each of its tags a new score in {@code unacked_index}.
 * Only the messages of a worker that died (or was cut off longer than the visibility timeout) are
 * ever restored to another worker, so long ETA and {@code acks_late} tasks are not run twice.
 *
 * <p>A lost connection does not lose what we hold: the records stay in {@code unacked} under the
 * publisher's delivery tags, so after reconnecting our acks still apply. Only if some of them were
 * restored by someone else meanwhile do we give up the connection's generation.
 */
public class RedisTransport extends PullSupport {

  private static final Logger log = LoggerFactory.getLogger(RedisTransport.class);
  private static final long INITIAL_BACKOFF_MS = 200;
  /** kombu's BRPOP timeout, seconds. */
  private static final String BRPOP_TIMEOUT = "1";
  /** Most messages taken in one pop-and-record round trip. */
  private static final int MAX_BATCH = 100;
  /** Exchanges that are fanout on Redis (kombu turns celeryev from topic into fanout). */
  private static final Set<String> KNOWN_FANOUT = Set.of("celery.pidbox", "celeryev");

  private final Vertx vertx;
  private final TransportOptions options;
  private final RedisBrokerUrl url;
  private final RedisKeys keys;
  private final Redis commands;
  private final Redis dedicated;
  private final UnackedStore store;
  private final double visibilityTimeout;
  /** Consumed task queues, in round-robin order: the queue that just delivered goes last. */
  private final List<String> queues;
  private final Set<String> fanoutExchanges = new HashSet<>(KNOWN_FANOUT);
  private final Map<String, Fanout> fanoutsByPattern = new LinkedHashMap<>();
  /** Deliveries we hold (recorded in unacked, not yet settled), by delivery tag. */
  private final Map<String, Delivery> held = new LinkedHashMap<>();
  /** Tags whose ack could not be sent; retried on the next keep-fresh round. */
  private final Set<String> failedAcks = new LinkedHashSet<>();
  private final Set<Future<?>> settling = new HashSet<>();

  private record Fanout(FanoutBinding binding, Handler<Delivery> handler) {
  }

  private Handler<Delivery> handler;
  private RedisConnection poller;
  private RedisConnection subscriber;
  private long generation = 1;
  private boolean connected;
  private boolean consuming = true;
  private boolean closing;
  private boolean polling;
  private int recording;
  private int prefetch;
  private long reconnects;
  private long backoffMs = INITIAL_BACKOFF_MS;
  private long freshTimer = -1;
  private long restoreTimer = -1;
  private Handler<Long> lostHandler = gen -> { };

  public RedisTransport(Vertx vertx, TransportOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.url = RedisBrokerUrl.parse(options.url(), options.transportOptions());
    this.keys = new RedisKeys(url.globalKeyprefix(), url.db());
    this.visibilityTimeout = url.visibilityTimeout();
    this.commands = Redis.createClient(vertx, url.redisOptions(16));
    this.dedicated = Redis.createClient(vertx, url.redisOptions(4));
    this.store = new UnackedStore(commands, keys);
    this.prefetch = options.prefetch();
    this.queues = new ArrayList<>(options.queues());
  }

  /** Seconds after which a message nobody keeps fresh is restored. */
  public double visibilityTimeout() {
    return visibilityTimeout;
  }

  @Override
  public Future<Void> start(Handler<Delivery> handler) {
    this.handler = handler;
    return connect().onSuccess(v -> {
      long freshMs = Math.max(100, (long) (visibilityTimeout * 1000 / 4));
      freshTimer = vertx.setPeriodic(freshMs, id -> keepFresh());
      // kombu checks at start and then about every 100 s; a short visibility timeout is checked more often.
      long restoreMs = Math.max(1000, Math.min(60_000, (long) (visibilityTimeout * 1000)));
      restoreTimer = vertx.setPeriodic(restoreMs, id -> restoreExpired());
      restoreExpired();
    });
  }

  private Future<Void> connect() {
    return declare(queues)
      .compose(v -> dedicated.connect())
      .compose(conn -> {
        poller = conn;
        conn.exceptionHandler(err -> connectionLost(conn, err.getMessage()));
        conn.endHandler(v -> connectionLost(conn, "connection closed"));
        return fanoutsByPattern.isEmpty() || subscriber != null ? Future.succeededFuture() : subscribeAll();
      })
      .compose(v -> store.refresh(held.keySet()))
      .map(missing -> {
        if (!missing.isEmpty()) {
          giveUp(missing);
        }
        connected = true;
        backoffMs = INITIAL_BACKOFF_MS;
        log.info("Connected to {} (prefetch {}, queues {}, visibility_timeout {}s)", url.redacted(), prefetch, queues,
          visibilityTimeout);
        poll();
        return (Void) null;
      })
      .onFailure(err -> {
        log.error("Cannot connect to broker {}: {}", url.redacted(), err.getMessage());
        if (poller != null) {
          poller.close();
          poller = null;
        }
      });
  }

  /** kombu's queue declaration: the binding of the queue to the default-named exchange. */
  private Future<Void> declare(List<String> qs) {
    if (qs.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Request> sadds = new ArrayList<>();
    for (String q : qs) {
      sadds.add(Request.cmd(Command.SADD).arg(keys.binding(q)).arg(RedisKeys.bindingMember(q, "", q)));
    }
    return commands.batch(sadds).mapEmpty();
  }

  private void connectionLost(RedisConnection conn, String why) {
    if (closing) {
      return;
    }
    if (conn == subscriber) {
      subscriber = null;
      conn.close();
      log.warn("Pub/sub connection to broker {} lost ({}); subscribing again", url.redacted(), why);
      resubscribe(INITIAL_BACKOFF_MS);
      return;
    }
    if (conn != poller) {
      return;
    }
    boolean wasConnected = connected;
    connected = false;
    polling = false;
    poller = null;
    conn.close();
    if (wasConnected) {
      log.warn("Connection to broker {} lost ({}); the {} messages we hold stay ours in unacked", url.redacted(), why,
        held.size());
      scheduleReconnect();
    }
  }

  private void resubscribe(long delayMs) {
    vertx.setTimer(delayMs, id -> {
      if (closing || subscriber != null) {
        return;
      }
      subscribeAll().onFailure(err -> resubscribe(Math.min(delayMs * 2, options.reconnectMaxDelayMs())));
    });
  }

  private void closeDedicated() {
    RedisConnection p = poller;
    RedisConnection s = subscriber;
    poller = null;
    subscriber = null;
    if (p != null) {
      p.close();
    }
    if (s != null) {
      s.close();
    }
  }

  private void scheduleReconnect() {
    if (closing) {
      return;
    }
    long delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, options.reconnectMaxDelayMs());
    log.info("Reconnecting to {} in {} ms", url.redacted(), delay);
    vertx.setTimer(delay, id -> connect()
      .onSuccess(v -> {
        reconnects++;
        log.info("Reconnected to {}: consuming again, {} held messages still ours", url.redacted(), held.size());
      })
      .onFailure(err -> scheduleReconnect()));
  }

  /**
   * Some messages we hold were restored by another consumer (we were cut off, or stalled, longer
   * than the visibility timeout): they will run elsewhere. The consumer drops everything of this
   * generation, so the rest of what we hold goes back to the queues too.
   */
  private void giveUp(Set<String> missing) {
    long old = generation++;
    List<String> ours = new ArrayList<>(held.keySet());
    ours.removeAll(missing);
    log.warn("{} held messages were restored by another consumer after more than {}s; giving up the {} we hold",
      missing.size(), visibilityTimeout, held.size());
    held.clear();
    for (String tag : ours) {
      track(store.restore(tag, true));
    }
    lostHandler.handle(old);
  }

  // ---- consuming ----

  private boolean mayPoll() {
    return !polling && poller != null && connected && consuming && !closing && !queues.isEmpty()
      && (pull ? credit > 0 : prefetch <= 0 || held.size() + recording < prefetch); // pull: like kombu's can_consume
  }

  private void poll() {
    if (!mayPoll()) {
      return;
    }
    int room = pull ? credit : prefetch <= 0 ? MAX_BATCH : prefetch - held.size() - recording;
    if (room > 1) {
      popBatch(Math.min(room, MAX_BATCH));
    } else {
      blockingPop();
    }
  }

  /**
   * Takes what is there without blocking, several messages per round trip (one atomic script pops
   * and records them); only when the queues are empty does the poller wait in BRPOP.
   */
  private void popBatch(int max) {
    int perList = Math.max(1, max / queues.size());
    if (queues.size() > 1) {
      queues.add(queues.remove(0)); // round robin: the next batch starts at the next queue
    }
    recording += max; // reserved while the script runs, so prefetch accounting stays exact
    pop(store.popAndRecord(keys.brpopKeys(queues), max, perList), () -> recording -= max, this::restorePopped,
      (conn, r) -> {
        if (r == null || r.size() == 0) {
          blockingPop();
          return;
        }
        for (int i = 0; i + 2 < r.size(); i += 3) {
          String list = r.get(i).toString();
          String raw = r.get(i + 1).toString();
          if (r.get(i + 2).toInteger() == 1) {
            onPoppedRecorded(list, raw);
          } else {
            onPopped(conn, list, raw);
          }
        }
        poll();
      });
  }

  /** Messages a script popped for a connection given up meanwhile: back to the front of their lists. */
  private void restorePopped(Response r) {
    for (int i = 0; r != null && i + 2 < r.size(); i += 3) {
      String raw = r.get(i + 1).toString();
      if (r.get(i + 2).toInteger() == 1) {
        store.restore(RedisEnvelope.deliveryTag(RedisEnvelope.parse(raw)), true);
      } else {
        pushBack(r.get(i).toString(), raw);
      }
    }
  }

  private void blockingPop() {
    if (!mayPoll()) {
      return;
    }
    Request brpop = Request.cmd(Command.BRPOP);
    keys.brpopKeys(queues).forEach(brpop::arg);
    brpop.arg(BRPOP_TIMEOUT);
    pop(brpop, () -> { }, r -> {
      if (r != null) {
        pushBack(r.get(0).toString(), r.get(1).toString());
      }
    }, (conn, r) -> {
      if (r != null) {
        onPopped(conn, r.get(0).toString(), r.get(1).toString());
      }
      poll();
    });
  }

  /**
   * Sends a pop on the poller connection. {@code answered} runs first on any reply; a reply that
   * arrives for a connection given up meanwhile goes to {@code stale} (to put its messages back).
   */
  private void pop(Request cmd, Runnable answered, java.util.function.Consumer<Response> stale,
                   java.util.function.BiConsumer<RedisConnection, Response> popped) {
    polling = true;
    RedisConnection conn = poller;
    conn.send(cmd).onComplete(ar -> {
      answered.run();
      if (conn != poller) {
        if (ar.succeeded()) {
          stale.accept(ar.result());
        }
        return;
      }
      polling = false;
      if (ar.failed()) {
        connectionLost(conn, ar.cause().getMessage());
        return;
      }
      popped.accept(conn, ar.result());
    });
  }

  /** A message the pop script recorded in unacked already. */
  private void onPoppedRecorded(String list, String raw) {
    String queue = keys.queueOfList(list);
    Map<String, Object> env = null;
    Delivery d;
    try {
      env = RedisEnvelope.parse(raw);
      d = RedisEnvelope.toDelivery(env, queue, RedisEnvelope.deliveryTag(env), generation);
    } catch (IllegalArgumentException e) {
      log.error("Dropping a message from Redis list {} that is not a valid kombu envelope: {}. Message: {}", list,
        e.getMessage(), UnackedStore.abbreviate(raw));
      if (env != null) {
        store.remove(RedisEnvelope.deliveryTag(env));
      }
      return;
    }
    if (!consuming || closing || !queues.contains(queue)) {
      store.restore((String) d.deliveryTag(), true); // stopped (or the queue was cancelled) meanwhile
      return;
    }
    if (pull) {
      credit--; // as onPopped: one credit per message handed on
    }
    held.put((String) d.deliveryTag(), d);
    handler.handle(d);
  }

  private void onPopped(RedisConnection conn, String list, String raw) {
    String queue = keys.queueOfList(list);
    if (queues.remove(queue)) {
      queues.add(queue); // round robin: the queue that delivered goes last
    }
    if (!consuming || closing || !queues.contains(queue)) {
      pushBack(list, raw); // stopped (or the queue was cancelled) while BRPOP was waiting
      return;
    }
    Map<String, Object> env;
    Delivery d;
    String tag;
    try {
      env = RedisEnvelope.parse(raw);
      tag = RedisEnvelope.deliveryTag(env);
      if (tag == null) {
        tag = UUID.randomUUID().toString(); // not from kombu; still needs a key in unacked
        Map<String, Object> props = new LinkedHashMap<>(RedisEnvelope.properties(env));
        props.put("delivery_tag", tag);
        env = new LinkedHashMap<>(env);
        env.put("properties", props);
      }
      d = RedisEnvelope.toDelivery(env, queue, tag, generation);
    } catch (IllegalArgumentException e) {
      log.error("Dropping a message from Redis list {} that is not a kombu envelope: {}. Message: {}", list,
        e.getMessage(), UnackedStore.abbreviate(raw));
      return;
    }
    // Recorded on the BRPOP connection itself: pipelined ahead of the next BRPOP, in delivery order.
    recording++;
    if (pull) {
      credit--;
    }
    String t = tag;
    conn.batch(store.recordCommands(tag, env, d.exchange(), d.routingKey())).onComplete(ar -> {
      recording--;
      if (ar.failed()) {
        log.warn("Could not record delivery {} in unacked ({}); if we die before acking it, it is lost", t,
          ar.cause().getMessage());
      }
      if (d.generation() != generation) {
        return;
      }
      held.put(t, d);
      handler.handle(d);
      poll();
    });
  }

  /** Puts a message popped too late back where it was: the front of its list. */
  private void pushBack(String list, String raw) {
    commands.send(Request.cmd(Command.RPUSH).arg(list).arg(raw))
      .onFailure(err -> log.error("Could not put back a message popped from {}: {}. Message: {}", list, err.getMessage(),
        UnackedStore.abbreviate(raw)));
  }

  // ---- keep fresh and restore ----

  private void keepFresh() {
    if (!connected || closing) {
      return;
    }
    for (String tag : List.copyOf(failedAcks)) {
      failedAcks.remove(tag);
      settle(tag, store.remove(tag));
    }
    long gen = generation;
    store.refresh(held.keySet()).onSuccess(found -> {
      java.util.Set<String> missing = new java.util.HashSet<>(found);
      missing.retainAll(held.keySet()); // acked meanwhile: not missing
      if (!missing.isEmpty() && gen == generation) {
        giveUp(missing);
      }
    }).onFailure(err -> log.warn("Could not keep our {} held messages fresh: {}", held.size(), err.getMessage()));
  }

  private void restoreExpired() {
    if (!connected || closing) {
      return;
    }
    store.restoreExpired(visibilityTimeout, Set.copyOf(held.keySet()))
      .onSuccess(n -> {
        if (n > 0) {
          log.warn("Restored {} unacknowledged messages older than {}s (their consumer is gone)", n, visibilityTimeout);
        }
      })
      .onFailure(err -> log.warn("Restore of unacknowledged messages failed: {}", err.getMessage()));
  }

  // ---- settling ----

  @Override
  public void ack(Delivery d) {
    String tag = (String) d.deliveryTag();
    if (!release(d)) {
      return;
    }
    settle(tag, store.remove(tag));
  }

  @Override
  public void reject(Delivery d, boolean requeue) {
    String tag = (String) d.deliveryTag();
    if (!release(d)) {
      return;
    }
    if (requeue) {
      track(store.restore(tag, false));
    } else {
      settle(tag, store.remove(tag));
    }
  }

  /** Forgets a delivery we hold; false when it is not ours (fanout, other generation, already settled). */
  private boolean release(Delivery d) {
    if (d.deliveryTag() == null || d.generation() != generation || held.remove((String) d.deliveryTag()) == null) {
      log.debug("Dropping settlement of delivery {} from generation {}: not held any more", d.deliveryTag(), d.generation());
      return false;
    }
    poll();
    return true;
  }

  private void settle(String tag, Future<Void> f) {
    track(f).onFailure(err -> {
      log.warn("Ack of {} failed ({}); retrying", tag, err.getMessage());
      failedAcks.add(tag);
    });
  }

  private <T> Future<T> track(Future<T> f) {
    settling.add(f);
    return f.onComplete(ar -> settling.remove(f));
  }

  // ---- fanout ----

  @Override
  public Future<Void> consumeFanout(FanoutBinding binding, Handler<Delivery> h) {
    fanoutExchanges.add(binding.exchange());
    String pattern = keys.fanoutPattern(binding.exchange(), binding.routingKey());
    fanoutsByPattern.put(pattern, new Fanout(binding, h));
    Future<Response> bound = commands.send(Request.cmd(Command.SADD).arg(keys.binding(binding.exchange()))
      .arg(RedisKeys.bindingMember(binding.routingKey(), "", binding.queue())));
    if (!connected) {
      return bound.mapEmpty(); // subscribed on (re)connect
    }
    return bound.compose(v -> subscriber == null ? subscribeAll() : psubscribe(subscriber, List.of(pattern)));
  }

  private Future<Void> subscribeAll() {
    return dedicated.connect().compose(conn -> {
      subscriber = conn;
      conn.handler(this::onPubSub);
      conn.exceptionHandler(err -> connectionLost(conn, err.getMessage()));
      conn.endHandler(v -> connectionLost(conn, "pub/sub connection closed"));
      return psubscribe(conn, List.copyOf(fanoutsByPattern.keySet()));
    });
  }

  private Future<Void> psubscribe(RedisConnection conn, List<String> patterns) {
    Request r = Request.cmd(Command.PSUBSCRIBE);
    patterns.forEach(r::arg);
    return conn.send(r).mapEmpty();
  }

  private void onPubSub(Response r) {
    if (r == null || r.size() < 4 || !"pmessage".equals(r.get(0).toString())) {
      return;
    }
    Fanout f = fanoutsByPattern.get(r.get(1).toString());
    if (f == null) {
      return;
    }
    try {
      Map<String, Object> env = RedisEnvelope.parse(r.get(3).toString());
      f.handler().handle(RedisEnvelope.toDelivery(env, f.binding().queue(), null, generation));
    } catch (IllegalArgumentException e) {
      log.error("Ignoring a message on {} that is not a kombu envelope: {}", r.get(2), e.getMessage());
    }
  }

  // ---- publishing ----

  @Override
  public Future<Void> publish(OutgoingMessage m) {
    if (closing) {
      return Future.failedFuture("transport closed");
    }
    String payload;
    try {
      payload = Json.encodeToString(RedisEnvelope.encode(m));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    String exchange = m.exchange() == null ? "" : m.exchange();
    if (fanoutExchanges.contains(exchange)) {
      return commands.send(Request.cmd(Command.PUBLISH).arg(keys.fanoutChannel(exchange, m.routingKey())).arg(payload))
        .mapEmpty();
    }
    Object priority = m.properties() == null ? null : m.properties().get("priority");
    int step = RedisKeys.step(priority instanceof Number n ? n.intValue() : null);
    return store.queuesFor(exchange, m.routingKey()).compose(qs -> {
      if (qs.isEmpty()) {
        log.debug("No queue bound to exchange {} with key {}: message dropped", exchange, m.routingKey());
        return Future.succeededFuture();
      }
      List<Request> pushes = qs.stream().map(q -> Request.cmd(Command.LPUSH).arg(keys.list(q, step)).arg(payload)).toList();
      return commands.batch(pushes).mapEmpty();
    });
  }

  // ---- queues, prefetch, lifecycle ----

  @Override
  public Future<Void> addQueue(String queue) {
    if (queues.contains(queue)) {
      return Future.succeededFuture();
    }
    queues.add(queue);
    return declare(List.of(queue)).onSuccess(v -> poll()); // the running BRPOP picks it up within a second
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

  @Override
  public Future<Void> stopConsuming() {
    consuming = false;
    return whenIdle();
  }

  @Override
  protected void creditGranted() {
    poll();
  }

  @Override
  public Future<Void> resumeConsuming() {
    consuming = true;
    poll();
    return Future.succeededFuture();
  }

  /** Completes once no BRPOP and no delivery record is in flight (at most about a BRPOP timeout). */
  private Future<Void> whenIdle() {
    Promise<Void> p = Promise.promise();
    waitIdle(p, System.nanoTime() + 3_000_000_000L);
    return p.future();
  }

  private void waitIdle(Promise<Void> p, long deadline) {
    if ((!polling && recording == 0) || poller == null || System.nanoTime() > deadline) {
      p.complete();
    } else {
      vertx.setTimer(20, id -> waitIdle(p, deadline));
    }
  }

  @Override
  public Future<Void> prefetch(int count) {
    prefetch = count;
    poll();
    return Future.succeededFuture();
  }

  @Override
  public void connectionLostHandler(Handler<Long> handler) {
    this.lostHandler = handler;
  }

  @Override
  public boolean isConnected() {
    return connected;
  }

  @Override
  public long reconnects() {
    return reconnects;
  }

  /** The delivery tags we hold now. */
  public Set<String> heldTags() {
    return Set.copyOf(held.keySet());
  }

  /**
   * Closes like kombu's channel: settlements in flight are finished, then every message we still
   * hold is restored to the front of its queue for another worker.
   */
  @Override
  public Future<Void> close() {
    consuming = false;
    return whenIdle().compose(v -> {
      closing = true;
      vertx.cancelTimer(freshTimer);
      vertx.cancelTimer(restoreTimer);
      return Future.join(new ArrayList<>(settling)).otherwiseEmpty();
    }).compose(v -> {
      List<String> ours = new ArrayList<>(held.keySet());
      held.clear();
      List<Future<Boolean>> restores = ours.stream().map(tag -> store.restore(tag, true)).toList();
      return Future.join(restores).otherwiseEmpty().onSuccess(x -> {
        if (!ours.isEmpty()) {
          log.info("Restored {} unacknowledged messages to their queues", ours.size());
        }
      });
    }).compose(v -> {
      connected = false;
      closeDedicated();
      return Future.join(commands.close(), dedicated.close()).otherwiseEmpty();
    }).mapEmpty();
  }
}

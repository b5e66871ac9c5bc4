package io.celerity.transport.redis;

import io.celerity.protocol.Json;
import io.celerity.types.Delivery;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pop loop on the dedicated poller connection: batches of messages popped and recorded in one
 * atomic script while the queues have messages, {@code BRPOP} (1 s timeout, so stopping is prompt)
 * only once they are empty.
 *
 * <p>Every popped message is handed over or settled on its own: one that cannot be parsed (not a
 * kombu envelope, body not base64) is logged and its record removed, and a failure while handing
 * one over rejects that one only; the rest of the batch is delivered as if nothing happened.
 *
 * <p>A batch whose reply is lost with the connection (the broker killed it after the script ran) is
 * recorded as ours but held by nobody: its claim (see {@link UnackedStore#POP_AND_RECORD_SCRIPT})
 * is taken back at the reconnect, before the next pop. Event-loop confined.
 */
final class RedisPoller {

  private static final Logger log = LoggerFactory.getLogger(RedisTransport.class);

  /** kombu's BRPOP timeout, seconds. */
  private static final String BRPOP_TIMEOUT = "1";

  /** Most messages taken in one pop-and-record round trip. */
  static final int MAX_BATCH = 100;

  private final RedisTransport transport;
  private final Redis dedicated;
  private final Redis commands;
  private final RedisKeys keys;
  private final UnackedStore store;
  private final HeldMessages held;
  private final String claim;
  private final long claimTtlMs;
  private final List<Promise<Void>> idleWaiters = new ArrayList<>();

  private RedisConnection conn;
  private boolean polling;
  private int recording;
  private long pops;

  /** The batch pop whose reply was lost with its connection, to reclaim at the reconnect. */
  private String unansweredPop;

  RedisPoller(
      RedisTransport transport,
      Redis dedicated,
      Redis commands,
      RedisKeys keys,
      UnackedStore store,
      HeldMessages held,
      double visibilityTimeout) {
    this.transport = transport;
    this.dedicated = dedicated;
    this.commands = commands;
    this.keys = keys;
    this.store = store;
    this.held = held;
    this.claim = keys.claim(UUID.randomUUID().toString());
    this.claimTtlMs = Math.max(60_000, (long) (visibilityTimeout * 1000));
  }

  /** Opens the poller connection of generation {@code gen}; {@code lost} hears of its end. */
  Future<Void> open(long gen, BiConsumer<Long, String> lost) {
    return dedicated
        .connect()
        .map(
            c -> {
              conn = c;
              c.exceptionHandler(err -> lost.accept(gen, "poller connection: " + err.getMessage()));
              c.endHandler(v -> lost.accept(gen, "poller connection closed"));
              return null;
            });
  }

  /** Gives up the poller connection (lost or closing); a reply still in flight counts as stale. */
  void drop() {
    RedisConnection c = conn;
    conn = null;
    polling = false;
    if (c != null) {
      c.close();
    }
    checkIdle();
  }

  boolean isOpen() {
    return conn != null;
  }

  /**
   * Takes back the messages of a batch pop whose reply the lost connection swallowed: recorded as
   * ours, never handed over. They are handed over now, as if the reply had arrived.
   */
  Future<Void> reclaim() {
    String pop = unansweredPop;
    if (pop == null) {
      return Future.succeededFuture();
    }
    return store
        .reclaim(claim, pop)
        .map(
            r -> {
              unansweredPop = null;
              int n = r == null ? 0 : r.size() / 3;
              if (n > 0) {
                log.warn(
                    "Took back {} messages popped and recorded just before the connection was lost (their reply never "
                        + "arrived)",
                    n);
              }
              for (int i = 0; i + 2 < n * 3; i += 3) {
                adopt(r.get(i).toString(), r.get(i + 1).toString(), r.get(i + 2).toString());
              }
              return null;
            });
  }

  private void adopt(String list, String record, String tag) {
    try {
      Object parsed = Json.parse(record);
      if (!(parsed instanceof List<?> l) || l.isEmpty() || !(l.get(0) instanceof Map<?, ?>)) {
        throw new IllegalArgumentException(
            "unacked record is not [message, exchange, routing_key]");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> env = (Map<String, Object>) l.get(0);
      handOver(
          keys.queueOfList(list),
          RedisEnvelope.toDelivery(env, keys.queueOfList(list), tag, held.epoch()));
    } catch (java.io.IOException | RuntimeException e) {
      dropBad(list, tag, e, record);
    }
  }

  // ---- the loop ----

  private int room() {
    if (transport.pullMode()) {
      return transport.credit();
    }
    int prefetch = transport.prefetchCount();
    return prefetch <= 0 ? MAX_BATCH : prefetch - held.size() - recording;
  }

  private boolean mayPoll() {
    return !polling
        && conn != null
        && transport.isConsuming()
        && !transport.queueList().isEmpty()
        && room() > 0;
  }

  void poll() {
    if (mayPoll()) {
      popBatch(Math.min(room(), MAX_BATCH));
    }
  }

  /**
   * Takes what is there without blocking, several messages per round trip (one atomic script pops
   * and records them); only when the queues are empty does the poller wait in BRPOP.
   */
  private void popBatch(int max) {
    List<String> queues = transport.queueList();
    int perList = Math.max(1, max / queues.size());
    if (queues.size() > 1) {
      queues.add(queues.remove(0)); // round robin: the next batch starts at the next queue
    }
    recording += max; // reserved while the script runs, so prefetch accounting stays exact
    String popId = Long.toString(++pops);
    pop(
        store.popAndRecord(keys.brpopKeys(queues), max, perList, claim, popId, claimTtlMs),
        popId,
        () -> recording -= max,
        this::restorePopped,
        r -> {
          if (r == null || r.size() == 0) {
            blockingPop();
            return;
          }
          for (int i = 0; i + 2 < r.size(); i += 3) {
            String list = r.get(i).toString();
            String raw = r.get(i + 1).toString();
            boolean recorded = r.get(i + 2).toInteger() == 1;
            try {
              if (recorded) {
                onPoppedRecorded(list, raw);
              } else {
                onPopped(list, raw);
              }
            } catch (
                RuntimeException e) { // one message's failure never costs the rest of the batch
              dropBad(list, recorded ? RedisEnvelope.tagOf(raw) : null, e, raw);
            }
          }
          poll();
        });
  }

  /**
   * Messages a script popped for a connection given up meanwhile: back to the front of their lists.
   */
  private void restorePopped(Response r) {
    for (int i = 0; r != null && i + 2 < r.size(); i += 3) {
      String raw = r.get(i + 1).toString();
      String tag = RedisEnvelope.tagOf(raw);
      if (r.get(i + 2).toInteger() == 1 && tag != null) {
        held.giveBack(tag);
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
    keys.brpopKeys(transport.queueList()).forEach(brpop::arg);
    brpop.arg(BRPOP_TIMEOUT);
    pop(
        brpop,
        null,
        () -> {},
        r -> {
          if (r != null) {
            pushBack(r.get(0).toString(), r.get(1).toString());
          }
        },
        r -> {
          if (r != null) {
            try {
              onPopped(r.get(0).toString(), r.get(1).toString());
            } catch (RuntimeException e) {
              dropBad(r.get(0).toString(), null, e, r.get(1).toString());
            }
          }
          poll();
        });
  }

  /**
   * Sends a pop on the poller connection. {@code answered} runs first on any reply; a reply that
   * arrives for a connection given up meanwhile goes to {@code stale} (to put its messages back); a
   * batch pop that got no reply at all is remembered for {@link #reclaim()}.
   */
  private void pop(
      Request cmd,
      String popId,
      Runnable answered,
      Consumer<Response> stale,
      Consumer<Response> popped) {
    polling = true;
    RedisConnection c = conn;
    c.send(cmd)
        .onComplete(
            ar -> {
              answered.run();
              if (ar.failed() && popId != null) {
                unansweredPop = popId;
              }
              if (c != conn) {
                if (ar.succeeded()) {
                  stale.accept(ar.result());
                }
              } else {
                polling = false;
                if (ar.failed()) {
                  transport.pollerFailed(ar.cause().getMessage());
                } else {
                  popped.accept(ar.result());
                }
              }
              checkIdle();
            });
  }

  /** A message the pop script recorded in unacked already. */
  private void onPoppedRecorded(String list, String raw) {
    String queue = keys.queueOfList(list);
    Map<String, Object> env;
    Delivery d;
    try {
      env = RedisEnvelope.parse(raw);
      d = RedisEnvelope.toDelivery(env, queue, RedisEnvelope.deliveryTag(env), held.epoch());
    } catch (IllegalArgumentException e) {
      dropBad(list, RedisEnvelope.tagOf(raw), e, raw);
      return;
    }
    handOver(queue, d);
  }

  /** A message popped by BRPOP (or unrecorded by the script): recorded here, then handed over. */
  private void onPopped(String list, String raw) {
    String queue = keys.queueOfList(list);
    List<String> queues = transport.queueList();
    if (queues.remove(queue)) {
      queues.add(queue); // round robin: the queue that delivered goes last
    }
    if (!transport.isConsuming() || !queues.contains(queue)) {
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
      d = RedisEnvelope.toDelivery(env, queue, tag, held.epoch());
    } catch (IllegalArgumentException e) {
      dropBad(list, null, e, raw); // never recorded: nothing to remove
      return;
    }
    // Recorded on the poller connection itself: pipelined ahead of the next pop, in delivery order.
    recording++;
    if (transport.pullMode()) {
      transport.tookCredit(); // counted now: the next pop must not take more than the credit
    }
    String t = tag;
    List<Request> record = store.recordCommands(tag, env, d.exchange(), d.routingKey());
    RedisConnection c = conn;
    Future<?> recorded =
        c.batch(record)
            .recover(
                err -> commands.batch(record)); // poller killed meanwhile: any connection will do
    recorded.onComplete(
        ar -> {
          recording--;
          checkIdle();
          if (ar.failed()) {
            log.warn(
                "Could not record delivery {} in unacked ({}); if we die before acking it, it is lost",
                t,
                ar.cause().getMessage());
          }
          if (d.generation() != held.epoch()) {
            held.giveBack(t); // we gave up what we held meanwhile: this one goes back too
            return;
          }
          deliver(d, false);
          poll();
        });
  }

  /**
   * Hands a recorded delivery to the consumer, or gives it back when we stopped consuming its
   * queue.
   */
  private void handOver(String queue, Delivery d) {
    if (!transport.isConsuming() || !transport.queueList().contains(queue)) {
      held.giveBack((String) d.deliveryTag()); // stopped (or the queue was cancelled) meanwhile
      return;
    }
    deliver(d, true);
  }

  private void deliver(Delivery d, boolean takeCredit) {
    if (takeCredit && transport.pullMode()) {
      transport.tookCredit(); // one credit per message handed on
    }
    held.hold(d);
    try {
      transport.handle(d);
    } catch (RuntimeException e) {
      Object id = d.headers() == null ? null : d.headers().get("id");
      log.error(
          "Handling delivery {} (task {}) failed: {}; the message is rejected",
          d.deliveryTag(),
          id,
          e.toString(),
          e);
      if (held.release(d)) {
        held.remove((String) d.deliveryTag());
      }
    }
  }

  /**
   * A message we cannot use: logged and, when it was recorded, removed from unacked (kombu drops it
   * too).
   */
  private void dropBad(String list, String tag, Exception e, String raw) {
    log.error(
        "Dropping a message from Redis list {} that is not a valid kombu envelope: {}. Message: {}",
        list,
        e.getMessage(),
        UnackedStore.abbreviate(raw));
    if (tag != null) {
      held.remove(tag);
    }
  }

  /** Puts a message popped too late back where it was: the front of its list. */
  private void pushBack(String list, String raw) {
    commands
        .send(Request.cmd(Command.RPUSH).arg(list).arg(raw))
        .onFailure(
            err ->
                log.error(
                    "Could not put back a message popped from {}: {}. Message: {}",
                    list,
                    err.getMessage(),
                    UnackedStore.abbreviate(raw)));
  }

  // ---- idleness ----

  /** Completes once no pop and no delivery record is in flight. */
  Future<Void> whenIdle() {
    if (isIdle()) {
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    idleWaiters.add(p);
    return p.future();
  }

  private boolean isIdle() {
    return !polling && recording == 0;
  }

  private void checkIdle() {
    if (!idleWaiters.isEmpty() && isIdle()) {
      List<Promise<Void>> waiting = new ArrayList<>(idleWaiters);
      idleWaiters.clear();
      waiting.forEach(Promise::tryComplete);
    }
  }
}

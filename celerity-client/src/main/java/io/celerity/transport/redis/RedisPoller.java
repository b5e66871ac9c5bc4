package io.celerity.transport.redis;

import io.celerity.protocol.Json;
import io.celerity.protocol.MessageDecoder;
import io.celerity.types.Delivery;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
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
 * <p>An envelope over {@link #LARGE_ENVELOPE_BYTES} is parsed (JSON, base64) on a worker thread: a
 * megabyte costs the event loop tens of milliseconds, a hostile hundred megabytes seconds. The rest
 * of its batch waits for it, so messages are still handed over in the order they were popped, and
 * no new pop starts meanwhile.
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

  /** Envelopes larger than this are parsed off the event loop. */
  static final int LARGE_ENVELOPE_BYTES = MessageDecoder.HEAVY_BODY_BYTES;

  private final RedisTransport transport;
  private final Redis dedicated;
  private final Redis commands;
  private final RedisKeys keys;
  private final UnackedStore store;
  private final HeldMessages held;
  private final String claim;
  private final long claimTtlMs;
  private final List<Promise<Void>> idleWaiters = new ArrayList<>();
  private final WorkerExecutor parser;

  private RedisConnection conn;
  private boolean polling;

  /** A popped batch is being handed over and waits for a large envelope's parse. */
  private boolean handingOver;

  private int recording;
  private long pops;

  /** The batch pop whose reply was lost with its connection, to reclaim at the reconnect. */
  private String unansweredPop;

  RedisPoller(
      Vertx vertx,
      RedisTransport transport,
      Redis dedicated,
      Redis commands,
      RedisKeys keys,
      UnackedStore store,
      HeldMessages held,
      double visibilityTimeout) {
    this.transport = transport;
    this.parser = vertx.createSharedWorkerExecutor("celerity-redis-parse", 1);
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

  /** Releases the parser thread; the transport is closed. */
  void close() {
    drop();
    parser.close();
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
      handOver(RedisEnvelope.toDelivery(env, keys.queueOfList(list), tag, held.epoch()));
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
        && !handingOver
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
          List<Popped> batch = new ArrayList<>(r.size() / 3);
          for (int i = 0; i + 2 < r.size(); i += 3) {
            batch.add(new Popped(r.get(i).toString(), r.get(i + 1), r.get(i + 2).toInteger() == 1));
          }
          handOverFrom(batch, 0);
        });
  }

  /** One message of a pop's reply: its list, the raw envelope, whether the pop recorded it. */
  private record Popped(String list, Response raw, boolean recorded) {

    boolean large() {
      return raw.toBuffer().length() > LARGE_ENVELOPE_BYTES;
    }

    String text() {
      return raw.toString();
    }

    /** The envelope's start, for a log line, without decoding all of a large one. */
    String preview() {
      Buffer b = raw.toBuffer();
      return UnackedStore.abbreviate(b.getString(0, Math.min(b.length(), 201)));
    }
  }

  /**
   * What parsing one popped envelope gave: its delivery (and, when the pop did not record it, the
   * commands that do), or why it is unusable (with its delivery tag when that could be read, to
   * remove its record).
   */
  private record Parsed(
      Delivery delivery, List<Request> record, RuntimeException bad, String tag) {}

  /**
   * Hands over {@code batch} from {@code from} on, in order. A large envelope is parsed on the
   * parser thread and the rest of the batch waits for it; the next pop starts once all are handed.
   */
  private void handOverFrom(List<Popped> batch, int from) {
    for (int i = from; i < batch.size(); i++) {
      Popped p = batch.get(i);
      long epoch = held.epoch();
      if (!p.large()) {
        settleParsed(p, parse(p, epoch));
        continue;
      }
      handingOver = true;
      int next = i + 1;
      parser
          .executeBlocking(() -> parse(p, epoch), false)
          .onComplete(
              ar -> {
                handingOver = false;
                try {
                  settleParsed(
                      p,
                      ar.succeeded()
                          ? ar.result()
                          : new Parsed(null, null, new IllegalStateException(ar.cause()), null));
                } finally {
                  handOverFrom(batch, next);
                  checkIdle();
                }
              });
      return;
    }
    poll();
  }

  /** Parses one popped envelope; pure, so that it can run on the parser thread. */
  private Parsed parse(Popped p, long epoch) {
    try {
      Map<String, Object> env = RedisEnvelope.parse(p.raw().toBytes());
      String tag = RedisEnvelope.deliveryTag(env);
      if (tag == null && !p.recorded()) {
        tag = UUID.randomUUID().toString(); // not from kombu; still needs a key in unacked
        Map<String, Object> props = new LinkedHashMap<>(RedisEnvelope.properties(env));
        props.put("delivery_tag", tag);
        env = new LinkedHashMap<>(env);
        env.put("properties", props);
      }
      String queue = keys.queueOfList(p.list());
      Delivery d = RedisEnvelope.toDelivery(env, queue, tag, epoch);
      // the record of a message the pop did not record is encoded here too: as large as the message
      List<Request> record =
          p.recorded() ? null : store.recordCommands(tag, env, d.exchange(), d.routingKey());
      return new Parsed(d, record, null, tag);
    } catch (RuntimeException | StackOverflowError e) {
      RuntimeException bad = e instanceof RuntimeException r ? r : new IllegalArgumentException(e);
      return new Parsed(null, null, bad, p.recorded() ? RedisEnvelope.tagOf(p.text()) : null);
    }
  }

  /** Delivers a parsed message (recording it first when the pop did not), or drops a bad one. */
  private void settleParsed(Popped p, Parsed parsed) {
    try {
      if (parsed.bad() != null) {
        dropBad(p.list(), parsed.tag(), parsed.bad(), p.preview());
      } else if (p.recorded()) {
        handOver(parsed.delivery());
      } else {
        record(p, parsed);
      }
    } catch (RuntimeException e) { // one message's failure never costs the rest of the batch
      dropBad(p.list(), p.recorded() ? parsed.tag() : null, e, p.preview());
    }
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
        pushBack(r.get(i).toString(), r.get(i + 1));
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
            pushBack(r.get(0).toString(), r.get(1));
          }
        },
        r -> {
          if (r == null) {
            poll();
          } else {
            handOverFrom(List.of(new Popped(r.get(0).toString(), r.get(1), false)), 0);
          }
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

  /** A message popped by BRPOP (or unrecorded by the script): recorded here, then handed over. */
  private void record(Popped p, Parsed parsed) {
    String queue = keys.queueOfList(p.list());
    List<String> queues = transport.queueList();
    if (queues.remove(queue)) {
      queues.add(queue); // round robin: the queue that delivered goes last
    }
    if (!transport.isConsuming() || !queues.contains(queue)) {
      pushBack(p.list(), p.raw()); // stopped (or the queue was cancelled) while BRPOP was waiting
      return;
    }
    Delivery d = parsed.delivery();
    // Recorded on the poller connection itself: pipelined ahead of the next pop, in delivery order.
    recording++;
    if (transport.pullMode()) {
      transport.tookCredit(); // counted now: the next pop must not take more than the credit
    }
    String t = parsed.tag();
    List<Request> record = parsed.record();
    RedisConnection c = conn;
    Future<?> recorded =
        c == null
            ? commands.batch(record)
            : c.batch(record)
                .recover(
                    err ->
                        commands.batch(record)); // poller killed meanwhile: any connection will do
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
  private void handOver(Delivery d) {
    if (!transport.isConsuming()
        || !transport.queueList().contains(d.queue())
        || d.generation() != held.epoch()) {
      // stopped, the queue was cancelled, or we gave up what we held while it was parsed
      held.giveBack((String) d.deliveryTag());
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
  private void pushBack(String list, Response raw) {
    commands
        .send(Request.cmd(Command.RPUSH).arg(list).arg(raw.toBuffer()))
        .onFailure(
            err ->
                log.error(
                    "Could not put back a message popped from {}: {}. Message: {}",
                    list,
                    err.getMessage(),
                    UnackedStore.abbreviate(raw.toString())));
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
    return !polling && !handingOver && recording == 0;
  }

  private void checkIdle() {
    if (!idleWaiters.isEmpty() && isIdle()) {
      List<Promise<Void>> waiting = new ArrayList<>(idleWaiters);
      idleWaiters.clear();
      waiting.forEach(Promise::tryComplete);
    }
  }
}

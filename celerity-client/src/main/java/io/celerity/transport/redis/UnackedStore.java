package io.celerity.transport.redis;

import io.celerity.protocol.Json;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kombu's acknowledgement emulation on Redis (docs/wire-protocol.md §3.5): the {@code unacked} hash
 * and {@code unacked_index} sorted set, restore of messages whose holder went away, and the
 * exchange lookup that restore and named-exchange publishing share. Commands only; which tags are
 * ours is the transport's business.
 */
final class UnackedStore {

  private static final Logger log = LoggerFactory.getLogger(UnackedStore.class);

  /** kombu's {@code unacked_mutex_expire}, ms. */
  static final long MUTEX_EXPIRE_MS = 300_000;

  /**
   * kombu's {@code unacked_restore_limit} is unset by default; we restore in bounded rounds anyway.
   */
  static final int RESTORE_BATCH = 1000;

  private static final String RELEASE_SCRIPT =
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

  private final Redis redis;
  private final RedisKeys keys;

  UnackedStore(Redis redis, RedisKeys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  /** Epoch seconds as a float, the score kombu writes. */
  static String now() {
    java.time.Instant t = java.time.Instant.now();
    return BigDecimal.valueOf(t.getEpochSecond() * 1_000_000 + t.getNano() / 1000, 6)
        .toPlainString();
  }

  /**
   * Pops up to {@code ARGV[1]} messages, at most {@code ARGV[3]} from each list, from the lists in
   * the order given (priority step, then queue, as BRPOP's keys), and records each kombu envelope
   * as ours in the same atomic step (so no message is ever popped but unrecorded, the window
   * kombu's BRPOP-then-MULTI leaves). The record is kombu's {@code [message, exchange,
   * routing_key]} with the envelope spliced in as popped, never re-encoded. Returns list, raw,
   * recorded (1/0) per message; envelopes without a string delivery tag or that are not JSON come
   * back unrecorded.
   *
   * <p>With a pop id ({@code ARGV[4]}), the claim list {@code KEYS[3]} is replaced by {@code [pop
   * id, list, tag, list, tag, ...]} of what this pop recorded: if the connection dies before the
   * reply reaches us, those messages are recorded as ours but nobody holds them, and {@link
   * #RECLAIM_SCRIPT} takes them back after the reconnect instead of leaving them to a restore after
   * the visibility timeout.
   */
  static final String POP_AND_RECORD_SCRIPT =
      """
    local out, n, per = {}, tonumber(ARGV[1]), tonumber(ARGV[3])
    local claim = {}
    for i = 4, #KEYS do
      local taken = 0
      while #out < 3 * n and taken < per do
        local raw = redis.call('RPOP', KEYS[i])
        if not raw then break end
        taken = taken + 1
        local ok, env = pcall(cjson.decode, raw)
        local recorded = 0
        if ok and type(env) == 'table' and type(env.properties) == 'table'
            and type(env.properties.delivery_tag) == 'string' then
          local p = env.properties
          local info = type(p.delivery_info) == 'table' and p.delivery_info or {}
          local ex = type(info.exchange) == 'string' and info.exchange or ''
          local rk = type(info.routing_key) == 'string' and info.routing_key or ''
          redis.call('ZADD', KEYS[2], ARGV[2], p.delivery_tag)
          redis.call('HSET', KEYS[1], p.delivery_tag, '[' .. raw .. ',' .. cjson.encode(ex) .. ',' .. cjson.encode(rk) .. ']')
          recorded = 1
          claim[#claim + 1] = KEYS[i]
          claim[#claim + 1] = p.delivery_tag
        end
        out[#out + 1] = KEYS[i]
        out[#out + 1] = raw
        out[#out + 1] = recorded
      end
      if #out >= 3 * n then break end
    end
    if ARGV[4] ~= '' then
      redis.call('DEL', KEYS[3])
      if #claim > 0 then
        redis.call('RPUSH', KEYS[3], ARGV[4], unpack(claim))
        redis.call('PEXPIRE', KEYS[3], ARGV[5])
      end
    end
    return out
    """;

  /**
   * Takes back what the pop {@code ARGV[1]} recorded when its reply was lost with the connection:
   * if the claim list {@code KEYS[1]} is that pop's, returns list, unacked record, tag for each of
   * its messages still in {@code unacked} (KEYS[2]) and deletes the claim. A pop that never ran
   * left the previous pop's claim, which does not match: nothing is returned.
   */
  static final String RECLAIM_SCRIPT =
      """
    local c = redis.call('LRANGE', KEYS[1], 0, -1)
    if c[1] ~= ARGV[1] then return {} end
    redis.call('DEL', KEYS[1])
    local out = {}
    for i = 2, #c - 1, 2 do
      local rec = redis.call('HGET', KEYS[2], c[i + 1])
      if rec then
        out[#out + 1] = c[i]
        out[#out + 1] = rec
        out[#out + 1] = c[i + 1]
      end
    end
    return out
    """;

  /** {@link #POP_AND_RECORD_SCRIPT} for these lists (in BRPOP's order), without a claim. */
  Request popAndRecord(List<String> lists, int max, int perList) {
    return popAndRecord(lists, max, perList, "", "", 0);
  }

  /**
   * {@link #POP_AND_RECORD_SCRIPT} for these lists, leaving a claim under {@code claimKey} for
   * {@code popId}.
   */
  Request popAndRecord(
      List<String> lists, int max, int perList, String claimKey, String popId, long claimTtlMs) {
    Request r =
        Request.cmd(Command.EVAL)
            .arg(POP_AND_RECORD_SCRIPT)
            .arg(lists.size() + 3)
            .arg(keys.unacked())
            .arg(keys.unackedIndex())
            .arg(claimKey.isEmpty() ? keys.unacked() + ".noclaim" : claimKey);
    lists.forEach(r::arg);
    return r.arg(max).arg(now()).arg(perList).arg(popId).arg(Math.max(1, claimTtlMs));
  }

  /** {@link #RECLAIM_SCRIPT}. */
  Future<Response> reclaim(String claimKey, String popId) {
    return redis.send(
        Request.cmd(Command.EVAL)
            .arg(RECLAIM_SCRIPT)
            .arg(2)
            .arg(claimKey)
            .arg(keys.unacked())
            .arg(popId));
  }

  /** The commands that record a delivery as ours (one MULTI/EXEC, as kombu's {@code append}). */
  List<Request> recordCommands(
      String tag, Map<String, Object> envelope, String exchange, String routingKey) {
    String record =
        Json.encodeToString(
            List.of(
                envelope, exchange == null ? "" : exchange, routingKey == null ? "" : routingKey));
    return List.of(
        Request.cmd(Command.MULTI),
        Request.cmd(Command.ZADD).arg(keys.unackedIndex()).arg(now()).arg(tag),
        Request.cmd(Command.HSET).arg(keys.unacked()).arg(tag).arg(record),
        Request.cmd(Command.EXEC));
  }

  /** Ack, or reject without requeue: the record goes. */
  Future<Void> remove(String tag) {
    return redis
        .batch(
            List.of(
                Request.cmd(Command.MULTI),
                Request.cmd(Command.ZREM).arg(keys.unackedIndex()).arg(tag),
                Request.cmd(Command.HDEL).arg(keys.unacked()).arg(tag),
                Request.cmd(Command.EXEC)))
        .mapEmpty();
  }

  /**
   * Removes a record and pushes its message back, only if the record is still the one read: a
   * compare-and-swap on that one field. (A WATCH on the whole {@code unacked} hash, as before,
   * aborted all but a few of many concurrent restores, say the held ETA tasks requeued at a warm
   * shutdown, and the aborted ones stayed in {@code unacked} until the visibility timeout.) {@code
   * KEYS}: unacked, unacked_index, then the lists; {@code ARGV}: tag, record, payload, "1" to push
   * on the right (served next).
   */
  static final String RESTORE_SCRIPT =
      """
      if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
      redis.call('ZREM', KEYS[2], ARGV[1])
      redis.call('HDEL', KEYS[1], ARGV[1])
      for i = 3, #KEYS do
        if ARGV[4] == '1' then
          redis.call('RPUSH', KEYS[i], ARGV[3])
        else
          redis.call('LPUSH', KEYS[i], ARGV[3])
        end
      end
      return 1
      """;

  /**
   * Gives a message back to its queues, flagged redelivered, atomically with removing its record
   * ({@link #RESTORE_SCRIPT}). {@code front}: RPUSH, served next (restore of lost messages);
   * otherwise LPUSH, to the back (reject with requeue). Completes with false when there was nothing
   * to restore (already acked or restored by someone else).
   */
  Future<Boolean> restore(String tag, boolean front) {
    return redis
        .send(Request.cmd(Command.HGET).arg(keys.unacked()).arg(tag))
        .compose(
            raw -> {
              if (raw == null) {
                return redis
                    .send(Request.cmd(Command.ZREM).arg(keys.unackedIndex()).arg(tag))
                    .map(false);
              }
              List<?> record;
              try {
                record =
                    Json.parse(raw.toString()) instanceof List<?> l
                            && l.size() == 3
                            && l.get(0) instanceof Map
                        ? l
                        : null;
              } catch (IOException e) {
                record = null;
              }
              if (record == null) {
                log.error(
                    "Dropping unreadable unacked record {}: {}", tag, abbreviate(raw.toString()));
                return remove(tag).map(false);
              }
              @SuppressWarnings("unchecked")
              Map<String, Object> env =
                  RedisEnvelope.redelivered((Map<String, Object>) record.get(0));
              String exchange = String.valueOf(record.get(1));
              String routingKey = String.valueOf(record.get(2));
              String payload = Json.encodeToString(env);
              return queuesFor(exchange, routingKey)
                  .compose(
                      queues -> {
                        Request eval =
                            Request.cmd(Command.EVAL)
                                .arg(RESTORE_SCRIPT)
                                .arg(2 + queues.size())
                                .arg(keys.unacked())
                                .arg(keys.unackedIndex());
                        for (String q : queues) {
                          eval.arg(keys.list(q, 0));
                        }
                        eval.arg(tag).arg(raw.toBuffer()).arg(payload).arg(front ? "1" : "0");
                        return redis.send(eval).map(r -> r != null && r.toInteger() == 1);
                      });
            });
  }

  /**
   * Keeps our deliveries fresh: a new score for every tag still in {@code unacked_index} (ZADD XX,
   * pipelined). Completes with the tags that are no longer there: someone restored them.
   */
  Future<Set<String>> refresh(Collection<String> tags) {
    if (tags.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    List<String> order = List.copyOf(tags);
    String score = now();
    List<Request> zadds = new ArrayList<>(order.size());
    for (String tag : order) {
      zadds.add(
          Request.cmd(Command.ZADD)
              .arg(keys.unackedIndex())
              .arg("XX")
              .arg("CH")
              .arg(score)
              .arg(tag));
    }
    return redis
        .batch(zadds)
        .compose(
            rs -> {
              // 0 = not changed: either gone or (rarely) the same score; ZSCORE tells which.
              List<String> unchanged = new ArrayList<>();
              for (int i = 0; i < order.size(); i++) {
                if (rs.get(i) == null || rs.get(i).toInteger() == 0) {
                  unchanged.add(order.get(i));
                }
              }
              if (unchanged.isEmpty()) {
                return Future.succeededFuture(Set.of());
              }
              List<Request> scores =
                  unchanged.stream()
                      .map(t -> Request.cmd(Command.ZSCORE).arg(keys.unackedIndex()).arg(t))
                      .toList();
              return redis
                  .batch(scores)
                  .map(
                      rs2 -> {
                        Set<String> missing = new HashSet<>();
                        for (int i = 0; i < unchanged.size(); i++) {
                          if (rs2.get(i) == null) {
                            missing.add(unchanged.get(i));
                          }
                        }
                        return missing;
                      });
            });
  }

  /**
   * kombu's {@code restore_visible}: under {@code unacked_mutex}, puts every message delivered more
   * than {@code visibilityTimeout} seconds ago back at the front of its queue, except the tags in
   * {@code ours} (we are alive and still hold them). Completes with the number restored; 0 when
   * another consumer holds the mutex.
   */
  Future<Integer> restoreExpired(double visibilityTimeout, Set<String> ours) {
    String token = UUID.randomUUID().toString();
    return redis
        .send(
            Request.cmd(Command.SET)
                .arg(keys.unackedMutex())
                .arg(token)
                .arg("NX")
                .arg("PX")
                .arg(MUTEX_EXPIRE_MS))
        .compose(
            ok -> {
              if (ok == null) {
                return Future.succeededFuture(0);
              }
              String ceiling =
                  BigDecimal.valueOf(
                          System.currentTimeMillis() - (long) (visibilityTimeout * 1000), 3)
                      .toPlainString();
              return redis
                  .send(
                      Request.cmd(Command.ZREVRANGEBYSCORE)
                          .arg(keys.unackedIndex())
                          .arg(ceiling)
                          .arg("0")
                          .arg("LIMIT")
                          .arg("0")
                          .arg(RESTORE_BATCH))
                  .compose(tags -> restoreEach(tags, ours))
                  .eventually(
                      () ->
                          redis.send(
                              Request.cmd(Command.EVAL)
                                  .arg(RELEASE_SCRIPT)
                                  .arg(1)
                                  .arg(keys.unackedMutex())
                                  .arg(token)));
            });
  }

  private Future<Integer> restoreEach(Response tags, Set<String> ours) {
    Future<Integer> f = Future.succeededFuture(0);
    if (tags == null) {
      return f;
    }
    for (Response t : tags) {
      String tag = t.toString();
      if (ours.contains(tag)) {
        continue;
      }
      f = f.compose(n -> restore(tag, true).map(done -> done ? n + 1 : n));
    }
    return f;
  }

  /**
   * The queues a message to {@code exchange} with {@code routingKey} goes to: the queue named by
   * the key for the default exchange, else the bindings in {@code _kombu.binding.<exchange>} whose
   * key equals the routing key (or matches it as a topic pattern when it has wildcards).
   */
  Future<List<String>> queuesFor(String exchange, String routingKey) {
    if (exchange == null || exchange.isEmpty()) {
      return Future.succeededFuture(List.of(routingKey));
    }
    return redis
        .send(Request.cmd(Command.SMEMBERS).arg(keys.binding(exchange)))
        .map(
            members -> {
              List<String> out = new ArrayList<>();
              if (members != null) {
                for (Response m : members) {
                  String[] parts = m.toString().split(RedisKeys.SEP, 3);
                  if (parts.length == 3
                      && bindingMatches(parts[0], routingKey)
                      && !out.contains(parts[2])) {
                    out.add(parts[2]);
                  }
                }
              }
              return out;
            });
  }

  /** Direct match, or kombu's loose topic match when the binding key has {@code #} or {@code *}. */
  static boolean bindingMatches(String bindingKey, String routingKey) {
    if (!bindingKey.contains("#") && !bindingKey.contains("*")) {
      return bindingKey.equals(routingKey);
    }
    StringBuilder re = new StringBuilder();
    for (String word : bindingKey.split("\\.", -1)) {
      if (re.length() > 0) {
        re.append("\\.");
      }
      re.append(word.equals("#") ? ".*?" : word.equals("*") ? "[^.]+" : Pattern.quote(word));
    }
    return Pattern.matches(re.toString(), routingKey == null ? "" : routingKey);
  }

  static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "…";
  }
}

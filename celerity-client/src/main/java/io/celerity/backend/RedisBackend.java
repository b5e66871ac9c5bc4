package io.celerity.backend;

import io.celerity.protocol.Json;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Celery's Redis result backend: {@code celery-task-meta-<id>} documents written with SETEX and
 * announced with PUBLISH on the channel of the same name, where waiting clients listen.
 *
 * <p>Like Celery, a stored SUCCESS is never overwritten (a redelivered message must not turn a
 * success into something else). The check, the write and the PUBLISH run as one Lua script: one
 * round trip and atomic against a Python worker writing the same key. The check decodes the stored
 * document (cjson) and looks at its top-level {@code status}, as Celery does; a text search would
 * also find {@code "status": "SUCCESS"} inside a result or an exception argument. A value that is
 * not a JSON object (not Celery's) is overwritten.
 */
public class RedisBackend implements ResultBackend {

  static final String STORE_SCRIPT =
      """
    local cur = redis.call('GET', KEYS[1])
    if cur then
      local ok, meta = pcall(cjson.decode, cur)
      if ok and type(meta) == 'table' and meta['status'] == 'SUCCESS' then
        return 0
      end
    end
    if tonumber(ARGV[2]) > 0 then
      redis.call('SETEX', KEYS[1], ARGV[2], ARGV[1])
    else
      redis.call('SET', KEYS[1], ARGV[1])
    end
    redis.call('PUBLISH', KEYS[1], ARGV[1])
    return 1
    """;
  private static final String STORE_SHA = sha1(STORE_SCRIPT);

  /**
   * {@link #STORE_SCRIPT} for several results in one call: KEYS are the keys, ARGV[1] the expiry,
   * ARGV[i + 1] the document of KEYS[i]; each key is checked, written and published in turn, as by
   * one call each. Returns 1 (written) or 0 (a stored SUCCESS kept) per key.
   */
  static final String STORE_MANY_SCRIPT =
      """
    local out = {}
    for i = 1, #KEYS do
      local keep = false
      local cur = redis.call('GET', KEYS[i])
      if cur then
        local ok, meta = pcall(cjson.decode, cur)
        keep = ok and type(meta) == 'table' and meta['status'] == 'SUCCESS'
      end
      if keep then
        out[i] = 0
      else
        if tonumber(ARGV[1]) > 0 then
          redis.call('SETEX', KEYS[i], ARGV[1], ARGV[i + 1])
        else
          redis.call('SET', KEYS[i], ARGV[i + 1])
        end
        redis.call('PUBLISH', KEYS[i], ARGV[i + 1])
        out[i] = 1
      end
    end
    return out
    """;

  private static final String STORE_MANY_SHA = sha1(STORE_MANY_SCRIPT);

  /** Most results one script call writes (keeps each call short for the single-threaded server). */
  static final int MAX_BATCH = 128;

  /**
   * Celery's chord part MULTI/EXEC (docs/wire-protocol.md §5.6) as one script, so it is atomic
   * against a Python worker doing the same: ZADD .j, ZCOUNT .j, GET .t, GET .s, EXPIRE all three.
   * Also returns whether the ZADD added a new entry.
   */
  static final String CHORD_PART_SCRIPT =
      """
    local added = redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
    local n = redis.call('ZCOUNT', KEYS[1], '-inf', '+inf')
    local t = redis.call('GET', KEYS[2])
    local s = redis.call('GET', KEYS[3])
    if tonumber(ARGV[3]) > 0 then
      redis.call('EXPIRE', KEYS[1], ARGV[3])
      redis.call('EXPIRE', KEYS[2], ARGV[3])
      redis.call('EXPIRE', KEYS[3], ARGV[3])
    end
    return {added, n, t or '', s or ''}
    """;

  private static final String CHORD_PART_SHA = sha1(CHORD_PART_SCRIPT);
  static final String GROUP_PREFIX = "celery-taskset-meta-";

  private final Redis redis;

  /** One pipelined connection for result writes; null until opened, and after it failed. */
  private RedisConnection writer;

  private boolean opening;

  /**
   * Results stored during this event-loop turn, written together at its end; null when none is
   * waiting. Confined to {@link #batchLoop}.
   */
  private List<Pending> batch;

  private io.netty.channel.EventLoop batchLoop;

  private record Pending(String key, String doc, io.vertx.core.Promise<Void> stored) {}

  private final long expiresSeconds;
  private final String keyPrefix;

  public RedisBackend(Vertx vertx, String url, long expiresSeconds, String globalKeyPrefix) {
    RedisOptions options =
        new RedisOptions()
            .setConnectionString(url)
            .setMaxPoolSize(16)
            .setMaxPoolWaiting(100_000)
            .setMaxWaitingHandlers(100_000);
    this.redis = Redis.createClient(vertx, io.celerity.transport.Tls.forRediss(options, url));
    this.expiresSeconds = expiresSeconds;
    this.keyPrefix = globalKeyPrefix == null ? "" : globalKeyPrefix;
  }

  @Override
  public Future<Void> store(TaskResult result) {
    String key = keyPrefix + ResultDocuments.KEY_PREFIX + result.taskId();
    String doc;
    try {
      doc = Json.encodeToString(ResultDocuments.keyValueDocument(result));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return write(key, doc);
  }

  @Override
  public Future<Void> storeEncoded(EncodedState state) {
    if (state.expiresSeconds() != expiresSeconds) {
      return storeOne(state.key(), state.document(), state.expiresSeconds());
    }
    return write(state.key(), state.document());
  }

  /** Batched with the other stores of this event-loop turn when on an event loop. */
  private Future<Void> write(String key, String doc) {
    io.vertx.core.internal.ContextInternal context =
        (io.vertx.core.internal.ContextInternal) Vertx.currentContext();
    if (context == null
        || !context.isEventLoopContext()
        || (batchLoop != null && batchLoop != context.nettyEventLoop())) {
      return storeOne(key, doc);
    }
    // Many results end in one turn (1000 async tasks in flight complete in bursts): one script
    // call and one flush for them all, instead of a call, a flush and a reply each.
    if (batch == null) {
      batch = new ArrayList<>();
      batchLoop = context.nettyEventLoop();
      context.runOnContext(v -> flushBatch());
    }
    io.vertx.core.Promise<Void> stored = io.vertx.core.Promise.promise();
    batch.add(new Pending(key, doc, stored));
    if (batch.size() >= MAX_BATCH) {
      flushBatch();
    }
    return stored.future();
  }

  private Future<Void> storeOne(String key, String doc) {
    return storeOne(key, doc, expiresSeconds);
  }

  private Future<Void> storeOne(String key, String doc, long expires) {
    String ttl = Long.toString(expires);
    return script(STORE_SCRIPT, STORE_SHA, List.of(key), List.of(doc, ttl)).mapEmpty();
  }

  /** Writes the results stored in this turn; each store's future ends with its own outcome. */
  private void flushBatch() {
    List<Pending> pending = batch;
    if (pending == null || pending.isEmpty()) {
      batch = null; // the turn's end after a full batch went out: nothing left
      return;
    }
    batch = pending.size() >= MAX_BATCH ? new ArrayList<>() : null;
    if (pending.size() == 1) {
      Pending p = pending.get(0);
      storeOne(p.key(), p.doc()).onComplete(p.stored());
      return;
    }
    List<String> keys = new ArrayList<>(pending.size());
    List<String> args = new ArrayList<>(pending.size() + 1);
    args.add(Long.toString(expiresSeconds));
    for (Pending p : pending) {
      keys.add(p.key());
      args.add(p.doc());
    }
    script(STORE_MANY_SCRIPT, STORE_MANY_SHA, keys, args)
        .onComplete(
            ar -> {
              for (Pending p : pending) {
                if (ar.succeeded()) {
                  p.stored().tryComplete();
                } else {
                  p.stored().tryFail(ar.cause());
                }
              }
            });
  }

  /** EVALSHA, falling back to EVAL when Redis does not have the script cached yet. */
  private Future<Response> script(String script, String sha, List<String> keys, List<String> args) {
    return write(evalRequest(Command.EVALSHA, sha, keys, args))
        .recover(
            err ->
                err.getMessage() != null && err.getMessage().startsWith("NOSCRIPT")
                    ? write(evalRequest(Command.EVAL, script, keys, args))
                    : Future.failedFuture(err));
  }

  /**
   * Result writes go pipelined over one connection: taking a pooled connection for every write and
   * handing it back cost more event-loop time than the write (most of it with results on). While
   * that connection is being (re)opened, writes use the pool.
   */
  private Future<Response> write(Request r) {
    RedisConnection c = writer;
    if (c != null) {
      return c.send(r);
    }
    if (!opening) {
      opening = true;
      redis
          .connect()
          .onComplete(
              ar -> {
                opening = false;
                if (ar.succeeded()) {
                  RedisConnection conn = ar.result();
                  conn.exceptionHandler(err -> dropWriter(conn));
                  conn.endHandler(v -> dropWriter(conn));
                  writer = conn;
                }
              });
    }
    return redis.send(r);
  }

  private void dropWriter(RedisConnection conn) {
    if (writer == conn) {
      writer = null;
      conn.close();
    }
  }

  private static Request evalRequest(
      Command cmd, String scriptOrSha, List<String> keys, List<String> args) {
    Request r = Request.cmd(cmd).arg(scriptOrSha).arg(keys.size());
    keys.forEach(r::arg);
    args.forEach(r::arg);
    return r;
  }

  private String groupKey(String groupId, String suffix) {
    return keyPrefix + GROUP_PREFIX + groupId + suffix;
  }

  @Override
  public boolean supportsChords() {
    return true;
  }

  @Override
  public Future<Void> setChordSize(String groupId, int size) {
    Request r =
        expiresSeconds > 0
            ? Request.cmd(Command.SETEX).arg(groupKey(groupId, ".s")).arg(expiresSeconds).arg(size)
            : Request.cmd(Command.SET).arg(groupKey(groupId, ".s")).arg(size);
    return redis.send(r).mapEmpty();
  }

  @Override
  public Future<ChordCount> addChordPart(String groupId, Integer groupIndex, String entry) {
    List<String> keys =
        List.of(groupKey(groupId, ".j"), groupKey(groupId, ".t"), groupKey(groupId, ".s"));
    String score = groupIndex == null ? "+inf" : groupIndex.toString();
    return script(
            CHORD_PART_SCRIPT,
            CHORD_PART_SHA,
            keys,
            List.of(score, entry, Long.toString(expiresSeconds)))
        .map(
            r -> {
              String t = r.get(2).toString();
              String s = r.get(3).toString();
              return new ChordCount(
                  r.get(0).toLong() > 0,
                  r.get(1).toLong(),
                  s.isEmpty() ? null : Long.parseLong(s.trim()),
                  t.isEmpty() ? 0 : Long.parseLong(t.trim()));
            });
  }

  @Override
  public Future<List<String>> chordParts(String groupId) {
    return redis
        .send(Request.cmd(Command.ZRANGE).arg(groupKey(groupId, ".j")).arg(0).arg(-1))
        .map(
            r -> {
              List<String> out = new ArrayList<>(r == null ? 0 : r.size());
              if (r != null) {
                r.forEach(e -> out.add(e.toString()));
              }
              return out;
            });
  }

  @Override
  @SuppressWarnings("unchecked")
  public Future<Object> savedGroup(String groupId) {
    return redis
        .send(Request.cmd(Command.GET).arg(groupKey(groupId, "")))
        .map(
            r -> {
              if (r == null) {
                return null;
              }
              try {
                return ((Map<String, Object>) Json.parse(r.toBytes())).get("result");
              } catch (IOException | ClassCastException e) {
                throw new IllegalStateException(
                    "saved group " + groupId + " is not a GroupResult document", e);
              }
            });
  }

  @Override
  public Future<Void> deleteChord(String groupId) {
    return redis
        .send(
            Request.cmd(Command.DEL)
                .arg(groupKey(groupId, ".j"))
                .arg(groupKey(groupId, ".t"))
                .arg(groupKey(groupId, ".s")))
        .mapEmpty();
  }

  @Override
  @SuppressWarnings("unchecked")
  public Future<Map<String, Object>> get(String taskId) {
    return redis
        .send(Request.cmd(Command.GET).arg(keyPrefix + ResultDocuments.KEY_PREFIX + taskId))
        .map(
            r -> {
              if (r == null) {
                return null;
              }
              try {
                return (Map<String, Object>) Json.parse(r.toBytes());
              } catch (IOException e) {
                throw new IllegalStateException("stored result of " + taskId + " is not JSON", e);
              }
            });
  }

  /** Round trip to Redis, for readiness checks. */
  @Override
  public Future<Void> ping() {
    return redis.send(Request.cmd(Command.PING)).mapEmpty();
  }

  /** Error replies of the Redis server itself, which the same write would get again. */
  private static final java.util.Set<String> SERVER_ERRORS =
      java.util.Set.of("ERR", "WRONGTYPE", "NOSCRIPT", "OOM", "READONLY", "EXECABORT", "NOPERM");

  /**
   * Like Celery (kombu retries only redis-py's connection errors): an error reply of the server (a
   * script error, OOM, READONLY) is not retried; a lost, refused or closed connection is (the
   * client reports those as errors too, e.g. {@code CONNECTION_CLOSED}), and so is LOADING.
   */
  @Override
  public boolean retryable(Throwable err) {
    if (err instanceof IllegalArgumentException) {
      return false;
    }
    if (err instanceof io.vertx.redis.client.impl.types.ErrorType && err.getMessage() != null) {
      String msg = err.getMessage();
      int sp = msg.indexOf(' ');
      return !SERVER_ERRORS.contains(sp < 0 ? msg : msg.substring(0, sp));
    }
    return true;
  }

  @Override
  public Future<Void> close() {
    writer = null;
    redis.close();
    return Future.succeededFuture();
  }

  private static String sha1(String s) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

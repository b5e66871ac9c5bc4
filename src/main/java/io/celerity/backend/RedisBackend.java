package io.celerity.backend;

import io.celerity.protocol.Json;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * Celery's Redis result backend: {@code celery-task-meta-<id>} documents written with SETEX and
 * announced with PUBLISH on the channel of the same name, where waiting clients listen.
 *
 * <p>Like Celery, a stored SUCCESS is never overwritten (a redelivered message must not turn a
 * success into something else). The check, the write and the PUBLISH run as one Lua script: one
 * round trip and atomic against a Python worker writing the same key.
 */
public class RedisBackend implements ResultBackend {

  static final String STORE_SCRIPT = """
    local cur = redis.call('GET', KEYS[1])
    if cur and (string.find(cur, '"status": "SUCCESS"', 1, true) or string.find(cur, '"status":"SUCCESS"', 1, true)) then
      return 0
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

  private final Redis redis;
  private final long expiresSeconds;
  private final String keyPrefix;

  public RedisBackend(Vertx vertx, String url, long expiresSeconds, String globalKeyPrefix) {
    RedisOptions options = new RedisOptions().setConnectionString(url).setMaxPoolSize(16).setMaxPoolWaiting(100_000)
      .setMaxWaitingHandlers(100_000);
    this.redis = Redis.createClient(vertx, options);
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
    String ttl = Long.toString(expiresSeconds);
    return redis.send(Request.cmd(Command.EVALSHA).arg(STORE_SHA).arg(1).arg(key).arg(doc).arg(ttl))
      .recover(err -> err.getMessage() != null && err.getMessage().startsWith("NOSCRIPT")
        ? redis.send(Request.cmd(Command.EVAL).arg(STORE_SCRIPT).arg(1).arg(key).arg(doc).arg(ttl))
        : Future.failedFuture(err))
      .mapEmpty();
  }

  @Override
  @SuppressWarnings("unchecked")
  public Future<Map<String, Object>> get(String taskId) {
    return redis.send(Request.cmd(Command.GET).arg(keyPrefix + ResultDocuments.KEY_PREFIX + taskId)).map(r -> {
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
  public Future<Response> ping() {
    return redis.send(Request.cmd(Command.PING));
  }

  @Override
  public Future<Void> close() {
    redis.close();
    return Future.succeededFuture();
  }

  private static String sha1(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

package io.celerity.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.celerity.it.Brokers;
import io.celerity.it.TcpProxy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Result writes share one pipelined connection; when Redis drops it, later writes must go through
 * on a new one (nothing may stay stuck on a dead connection).
 */
@ExtendWith(VertxExtension.class)
class RedisBackendWriterIT {

  private static TaskResult success(String id, Object value) {
    return TaskResult.builder(id, "SUCCESS").result(value).dateDone(Instant.now()).build();
  }

  private static Future<Void> storeAll(RedisBackend backend, List<String> ids) {
    List<Future<Void>> writes = new ArrayList<>();
    for (String id : ids) {
      writes.add(backend.store(success(id, 4)));
    }
    return Future.all(writes).mapEmpty();
  }

  @Test
  void writesSurviveRedisClosingTheWriterConnection(Vertx vertx, VertxTestContext test)
      throws Throwable {
    // The backend connects through a proxy, so its connections are known by their ports: Redis is
    // shared, and connections other tests open meanwhile must be left alone.
    java.net.URI redis = java.net.URI.create(Brokers.REDIS_URL);
    TcpProxy proxy = new TcpProxy(vertx, redis.getHost(), redis.getPort());
    RedisBackend backend =
        new RedisBackend(
            vertx,
            "redis://127.0.0.1:" + proxy.port() + redis.getPath(),
            600,
            "writer-test-" + UUID.randomUUID() + ":");
    Redis admin = Redis.createClient(vertx, Brokers.REDIS_URL);
    List<String> first = new ArrayList<>();
    List<String> second = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      first.add(UUID.randomUUID().toString());
      second.add(UUID.randomUUID().toString());
    }
    storeAll(backend, first)
        .compose(
            v ->
                storeAll(
                    backend, List.of(UUID.randomUUID().toString()))) // the writer is open by now
        // The backend's connections (writer and pool): Redis drops them.
        .compose(v -> clientIds(admin, proxy.upstreamPorts()))
        .compose(
            ours -> {
              List<Future<?>> kills = new ArrayList<>();
              ours.forEach(
                  id ->
                      kills.add(
                          admin.send(Request.cmd(Command.CLIENT).arg("KILL").arg("ID").arg(id))));
              test.verify(
                  () ->
                      assertEquals(true, !kills.isEmpty(), "the backend's connections were found"));
              return Future.all(kills);
            })
        .compose(v -> retryStore(vertx, backend, second, 50))
        .compose(
            v -> {
              List<Future<java.util.Map<String, Object>>> reads = new ArrayList<>();
              second.forEach(id -> reads.add(backend.get(id)));
              return Future.all(reads);
            })
        .onComplete(
            test.succeeding(
                all ->
                    test.verify(
                        () -> {
                          for (int i = 0; i < second.size(); i++) {
                            java.util.Map<String, Object> doc = all.resultAt(i);
                            assertEquals("SUCCESS", doc.get("status"));
                            assertEquals(4, ((Number) doc.get("result")).intValue());
                          }
                          backend.close();
                          admin.close();
                          test.completeNow();
                        })));
    test.awaitCompletion(20, TimeUnit.SECONDS);
    proxy.close();
    if (test.failed()) {
      throw test.causeOfFailure();
    }
  }

  /**
   * The ids of the Redis clients connected from these local ports ({@code addr=} in {@code CLIENT
   * LIST}).
   */
  private static Future<java.util.Set<String>> clientIds(
      Redis admin, java.util.Set<Integer> ports) {
    return admin
        .send(Request.cmd(Command.CLIENT).arg("LIST"))
        .map(
            r -> {
              java.util.Set<String> ids = new java.util.HashSet<>();
              for (String line : r.toString().split("\n")) {
                java.util.regex.Matcher m =
                    java.util.regex.Pattern.compile("^id=(\\d+) addr=[^ ]*:(\\d+) ").matcher(line);
                if (m.find() && ports.contains(Integer.parseInt(m.group(2)))) {
                  ids.add(m.group(1));
                }
              }
              return ids;
            });
  }

  /**
   * Writes racing the kill may fail (as with any client); the writer must be usable again soon
   * after.
   */
  private static Future<Void> retryStore(
      Vertx vertx, RedisBackend backend, List<String> ids, int triesLeft) {
    return storeAll(backend, ids)
        .recover(
            err -> {
              if (triesLeft == 0) {
                return Future.failedFuture(err);
              }
              io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
              vertx.setTimer(
                  50, t -> retryStore(vertx, backend, ids, triesLeft - 1).onComplete(later));
              return later.future();
            });
  }
}

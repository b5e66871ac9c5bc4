package io.celerity.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.celerity.it.Brokers;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Celery's "a stored SUCCESS is never overwritten" check, against a real Redis. */
@ExtendWith(VertxExtension.class)
class RedisBackendStoreScriptIT {

  private static TaskResult doc(String id, String status, Object result) {
    return TaskResult.builder(id, status).result(result).dateDone(Instant.now()).build();
  }

  private static void await(VertxTestContext test) throws Throwable {
    test.awaitCompletion(20, TimeUnit.SECONDS);
    if (test.failed()) {
      throw test.causeOfFailure();
    }
  }

  @Test
  void aRetryWhoseMessageQuotesSuccessDoesNotBlockTheRealSuccess(Vertx vertx, VertxTestContext test)
      throws Throwable {
    RedisBackend backend =
        new RedisBackend(vertx, Brokers.REDIS_URL, 600, "script-test-" + UUID.randomUUID() + ":");
    String id = UUID.randomUUID().toString();
    Map<String, Object> retryReason =
        Map.of(
            "exc_type",
            "Retry",
            "exc_module",
            "celery.exceptions",
            // An exception argument that is a dict (e.g. an upstream reply) is JSON inside the
            // document, unescaped.
            "exc_message",
            List.of(Map.of("status", "SUCCESS", "code", 503)));
    backend
        .store(doc(id, "RETRY", retryReason))
        .compose(v -> backend.store(doc(id, "SUCCESS", 4)))
        .compose(v -> backend.get(id))
        .onComplete(
            test.succeeding(
                stored ->
                    test.verify(
                        () -> {
                          assertEquals("SUCCESS", stored.get("status"));
                          assertEquals(4, ((Number) stored.get("result")).intValue());
                          backend.close();
                          test.completeNow();
                        })));
    await(test);
  }

  @Test
  void aStoredSuccessIsNotOverwritten(Vertx vertx, VertxTestContext test) throws Throwable {
    RedisBackend backend =
        new RedisBackend(vertx, Brokers.REDIS_URL, 600, "script-test-" + UUID.randomUUID() + ":");
    String id = UUID.randomUUID().toString();
    backend
        .store(doc(id, "SUCCESS", 4))
        .compose(
            v ->
                backend.store(
                    doc(
                        id,
                        "FAILURE",
                        Map.of("exc_type", "KeyError", "exc_message", List.of("x")))))
        .compose(v -> backend.get(id))
        .onComplete(
            test.succeeding(
                stored ->
                    test.verify(
                        () -> {
                          assertEquals("SUCCESS", stored.get("status"));
                          backend.close();
                          test.completeNow();
                        })));
    await(test);
  }

  @Test
  void resultsStoredInOneEventLoopTurnAreWrittenAsEachWouldBe(Vertx vertx, VertxTestContext test)
      throws Throwable {
    RedisBackend backend =
        new RedisBackend(vertx, Brokers.REDIS_URL, 600, "script-test-" + UUID.randomUUID() + ":");
    String kept = UUID.randomUUID().toString();
    String retried = UUID.randomUUID().toString();
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 2 * RedisBackend.MAX_BATCH + 3; i++) {
      ids.add(UUID.randomUUID().toString());
    }
    backend
        .store(doc(kept, "SUCCESS", "first"))
        .compose(
            v -> {
              // one turn: more than two batches, a stored SUCCESS, one id stored twice in order
              io.vertx.core.Promise<Void> all = io.vertx.core.Promise.promise();
              vertx.runOnContext(
                  x -> {
                    List<io.vertx.core.Future<Void>> stores = new java.util.ArrayList<>();
                    stores.add(backend.store(doc(kept, "FAILURE", Map.of("exc_type", "KeyError"))));
                    stores.add(backend.store(doc(retried, "RETRY", null)));
                    for (int i = 0; i < ids.size(); i++) {
                      stores.add(backend.store(doc(ids.get(i), "SUCCESS", i)));
                    }
                    stores.add(backend.store(doc(retried, "SUCCESS", "after retry")));
                    io.vertx.core.Future.all(stores).<Void>mapEmpty().onComplete(all);
                  });
              return all.future();
            })
        .compose(v -> backend.get(kept))
        .compose(
            k ->
                backend
                    .get(retried)
                    .compose(
                        r ->
                            backend
                                .get(ids.get(ids.size() - 1))
                                .compose(
                                    last ->
                                        backend
                                            .get(ids.get(0))
                                            .map(first -> List.of(k, r, last, first)))))
        .onComplete(
            test.succeeding(
                docs ->
                    test.verify(
                        () -> {
                          assertEquals("first", docs.get(0).get("result"), "SUCCESS kept");
                          assertEquals("after retry", docs.get(1).get("result"), "in order");
                          assertEquals(ids.size() - 1, docs.get(2).get("result"));
                          assertEquals(0, docs.get(3).get("result"));
                          backend.close();
                          test.completeNow();
                        })));
    await(test);
  }

  @Test
  void statesEncodedByACeleryChildAreWrittenUnderTheirKeyWithTheirExpiry(
      Vertx vertx, VertxTestContext test) throws Throwable {
    String prefix = "script-test-" + UUID.randomUUID() + ":";
    RedisBackend backend = new RedisBackend(vertx, Brokers.REDIS_URL, 600, prefix);
    io.vertx.redis.client.Redis raw =
        io.vertx.redis.client.Redis.createClient(vertx, Brokers.REDIS_URL);
    String same = UUID.randomUUID().toString();
    String other = UUID.randomUUID().toString();
    // Celery's own encoding (spaces after separators), kept byte for byte
    String doc =
        "{\"status\": \"SUCCESS\", \"result\": 4, \"traceback\": null, \"task_id\": \"%s\"}";
    EncodedState a =
        new EncodedState(
            same, "SUCCESS", prefix + "celery-task-meta-" + same, doc.formatted(same), 600);
    EncodedState b =
        new EncodedState(
            other, "SUCCESS", prefix + "celery-task-meta-" + other, doc.formatted(other), 30);
    EncodedState failure =
        new EncodedState(
            same, "FAILURE", a.key(), "{\"status\": \"FAILURE\", \"result\": null}", 600);
    backend
        .storeEncoded(a)
        .compose(v -> backend.storeEncoded(b))
        .compose(v -> backend.storeEncoded(failure))
        .compose(
            v ->
                raw.send(
                        io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.GET)
                            .arg(a.key()))
                    .compose(
                        got ->
                            raw.send(
                                    io.vertx.redis.client.Request.cmd(
                                            io.vertx.redis.client.Command.TTL)
                                        .arg(a.key()))
                                .compose(
                                    ttlA ->
                                        raw.send(
                                                io.vertx.redis.client.Request.cmd(
                                                        io.vertx.redis.client.Command.TTL)
                                                    .arg(b.key()))
                                            .map(
                                                ttlB ->
                                                    List.of(
                                                        got.toString(),
                                                        ttlA.toLong(),
                                                        ttlB.toLong())))))
        .onComplete(
            test.succeeding(
                out ->
                    test.verify(
                        () -> {
                          assertEquals(
                              a.document(), out.get(0), "the stored SUCCESS kept, byte for byte");
                          long ttlA = (Long) out.get(1);
                          long ttlB = (Long) out.get(2);
                          org.junit.jupiter.api.Assertions.assertTrue(
                              ttlA > 30 && ttlA <= 600, "ttl " + ttlA);
                          org.junit.jupiter.api.Assertions.assertTrue(
                              ttlB > 0 && ttlB <= 30, "ttl " + ttlB);
                          raw.close();
                          backend.close();
                          test.completeNow();
                        })));
    await(test);
  }
}

package io.celerity.transport.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.it.Brokers;
import io.celerity.protocol.Json;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The batch pop of the Redis transport against a real Redis: each popped kombu envelope is recorded
 * in unacked exactly as kombu records it, in the same atomic step, in BRPOP's key order.
 */
@ExtendWith(VertxExtension.class)
class PopAndRecordIT {

  private final String prefix = "poptest-" + UUID.randomUUID() + ":";
  private final RedisKeys keys = new RedisKeys(prefix, 9);
  private Redis redis;
  private UnackedStore store;

  @BeforeEach
  void connect(Vertx vertx) {
    redis = Redis.createClient(vertx, Brokers.REDIS_URL);
    store = new UnackedStore(redis, keys);
  }

  @AfterEach
  void clean() throws Exception {
    Response k = send(Request.cmd(Command.KEYS).arg(prefix + "*"));
    for (Response key : k) {
      send(Request.cmd(Command.DEL).arg(key.toString()));
    }
    redis.close();
  }

  private Response send(Request r) throws Exception {
    return redis.send(r).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String captured() throws Exception {
    @SuppressWarnings("unchecked")
    Map<String, Object> fixture =
        (Map<String, Object>)
            Json.parse(Files.readString(Path.of("src/test/resources/fixtures/redis/add.json")));
    return (String) fixture.get("envelope");
  }

  @Test
  void recordsEachEnvelopeAsKombuDoesAndHonoursKeyOrder() throws Exception {
    String raw = captured();
    String tag = (String) RedisEnvelope.properties(RedisEnvelope.parse(raw)).get("delivery_tag");
    String low = keys.list("q", 0);
    String high = keys.list("q", 9);
    send(
        Request.cmd(Command.LPUSH)
            .arg(high)
            .arg("{\"body\": \"x\", \"properties\": {}}")); // no tag
    send(Request.cmd(Command.LPUSH).arg(low).arg(raw));
    send(Request.cmd(Command.LPUSH).arg(low).arg("not json"));

    Response popped = send(store.popAndRecord(keys.brpopKeys(List.of("q")), 10, 10));

    assertEquals(9, popped.size(), "three messages, three fields each");
    assertEquals(low, popped.get(0).toString(), "step 0 (kombu's highest priority) first");
    assertEquals(raw, popped.get(1).toString());
    assertEquals(1, popped.get(2).toInteger());
    assertEquals("not json", popped.get(4).toString());
    assertEquals(0, popped.get(5).toInteger(), "left to the transport, which logs and drops it");
    assertEquals(high, popped.get(6).toString());
    assertEquals(
        0,
        popped.get(8).toInteger(),
        "no delivery tag: the transport records it under one of its own");

    String record = send(Request.cmd(Command.HGET).arg(keys.unacked()).arg(tag)).toString();
    assertEquals(
        List.of(RedisEnvelope.parse(raw), "", "celerity-fixtures-capture"),
        Json.parse(record),
        "kombu's [message, exchange, routing_key]");
    assertTrue(
        record.startsWith("[" + raw + ","), "the envelope is stored as popped, not re-encoded");
    Response score = send(Request.cmd(Command.ZSCORE).arg(keys.unackedIndex()).arg(tag));
    assertTrue(
        Math.abs(score.toDouble() - System.currentTimeMillis() / 1000.0) < 60,
        "scored now: " + score);
    assertEquals(1, send(Request.cmd(Command.HLEN).arg(keys.unacked())).toInteger());
  }

  @Test
  void takesAtMostTheLimitAndPerListShare() throws Exception {
    String raw = captured();
    for (int i = 0; i < 5; i++) {
      send(
          Request.cmd(Command.LPUSH)
              .arg(keys.list("a", 0))
              .arg(raw.replace("c9c99ca9", "aaaaaaa" + i)));
      send(
          Request.cmd(Command.LPUSH)
              .arg(keys.list("b", 0))
              .arg(raw.replace("c9c99ca9", "bbbbbbb" + i)));
    }
    Response popped = send(store.popAndRecord(keys.brpopKeys(List.of("a", "b")), 4, 2));
    assertEquals(12, popped.size());
    assertEquals(
        List.of("a", "a", "b", "b"),
        List.of(0, 3, 6, 9).stream().map(i -> keys.queueOfList(popped.get(i).toString())).toList(),
        "two from each queue, so one long queue cannot starve the others");
    assertEquals(3, send(Request.cmd(Command.LLEN).arg(keys.list("a", 0))).toInteger());
    assertEquals(4, send(Request.cmd(Command.HLEN).arg(keys.unacked())).toInteger());
    assertNull(send(Request.cmd(Command.LPOP).arg(keys.list("none", 0))));
  }
}

package io.celerity.transport.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.celerity.it.Brokers;
import io.celerity.it.RedisCli;
import io.celerity.protocol.Json;
import io.celerity.support.BlockedThreadGuard;
import io.celerity.support.Polling;
import io.celerity.transport.TransportOptions;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One batch pop holding bad messages among good ones: each message is handed over or settled on its
 * own. Unparseable envelopes and bodies that are not base64 are dropped and their records removed;
 * a message whose handling throws is rejected alone; the rest of the batch is delivered.
 */
class PoppedMessageIsolationIT {

  private final Vertx vertx = BlockedThreadGuard.strictVertx();
  private final String queue = Brokers.uniqueQueue("isolation");
  private final RedisCli redis = new RedisCli(Brokers.REDIS_URL);
  private RedisTransport transport;

  @AfterEach
  void tearDown() throws Exception {
    if (transport != null) {
      RedisTransport t = transport;
      vertx.runOnContext(v -> t.close());
    }
    for (String tag : tags) {
      redis.send("HDEL", "unacked", tag);
      redis.send("ZREM", "unacked_index", tag);
    }
    redis.deleteQueue(queue);
    redis.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private final List<String> tags = new ArrayList<>();

  private String envelope(String id) {
    Map<String, Object> env =
        RedisEnvelope.encode(
            OutgoingMessage.json(
                "",
                queue,
                ("[[], {}, {}]").getBytes(StandardCharsets.UTF_8),
                Map.of("id", id, "task", "t"),
                Map.of()));
    tags.add(RedisEnvelope.deliveryTag(env));
    return Json.encodeToString(env);
  }

  private long unackedOf(Set<String> of) throws Exception {
    long n = 0;
    for (String tag : of) {
      n += redis.send("HEXISTS", "unacked", tag).toLong();
    }
    return n;
  }

  @Test
  void badMessagesInABatchCostNothingToTheRest() throws Exception {
    // Popped in this order (RPOP takes the oldest first): good, not an envelope, bad base64,
    // throws, good, good.
    List<String> raws = new ArrayList<>();
    raws.add(envelope("good-1"));
    String notEnvelope =
        "{\"body\": 5, \"properties\": {\"delivery_tag\": \"bad-env-" + queue + "\"}}";
    tags.add("bad-env-" + queue);
    raws.add(notEnvelope);
    raws.add(
        envelope("bad-base64")
            .replaceFirst("\"body\":\"[^\"]*\"", "\"body\":\"***not base64***\""));
    raws.add(envelope("throws"));
    raws.add(envelope("good-2"));
    raws.add(envelope("good-3"));
    for (String raw : raws) {
      redis.send("LPUSH", queue, raw);
    }

    List<String> delivered = new CopyOnWriteArrayList<>();
    List<Delivery> held = new CopyOnWriteArrayList<>();
    transport =
        new RedisTransport(
            vertx, new TransportOptions(Brokers.REDIS_URL, List.of(queue), 10, null, 1000, "test"));
    RedisTransport t = transport;
    vertx.runOnContext(
        v ->
            t.start(
                d -> {
                  String id = (String) d.headers().get("id");
                  delivered.add(id);
                  if (id.equals("throws")) {
                    throw new IllegalStateException("a strategy bug");
                  }
                  held.add(d);
                }));

    Polling.until(() -> delivered.size() == 4, 10_000);
    assertEquals(List.of("good-1", "throws", "good-2", "good-3"), delivered);
    assertEquals(0, redis.waiting(queue));
    Polling.until(
        () -> unackedOf(Set.copyOf(tags)) == 3, 10_000); // only the three good ones stay recorded
    assertEquals(3, held.size());

    vertx.runOnContext(v -> held.forEach(t::ack));
    Polling.until(() -> unackedOf(Set.copyOf(tags)) == 0, 10_000);
  }
}

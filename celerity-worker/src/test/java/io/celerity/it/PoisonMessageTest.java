package io.celerity.it;

import static io.celerity.it.CeleryClient.call;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.celerity.support.Polling;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.Test;

/**
 * Messages that once stalled a worker for good: each one held its prefetch slot unsettled, so with
 * a prefetch of one nothing behind it ran, and a restart met the same message again. Now each is
 * settled on its own and the task queued behind it runs.
 */
class PoisonMessageTest extends AmqpTestBase {

  @Override
  protected String queuePrefix() {
    return "poison";
  }

  private static Map<String, Object> headers(String id) {
    return Amqp.taskHeaders("examples.add", id);
  }

  private static byte[] zlib(byte[] prefix, int zeros) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DeflaterOutputStream z = new DeflaterOutputStream(out)) {
      z.write(prefix);
      byte[] chunk = new byte[1 << 20];
      for (int i = 0; i < zeros; i += chunk.length) {
        z.write(chunk, 0, Math.min(chunk.length, zeros - i));
      }
    }
    return out.toByteArray();
  }

  @Test
  void eachPoisonMessageIsSettledAloneAndTheTaskBehindItRuns() throws Exception {
    // one slot, one message in flight: a single unsettled message would stop the worker
    startWorker(
        new JsonObject()
            .put("concurrency", 1)
            .put("prefetch_multiplier", 1)
            .put("max_decompressed_body", 1024 * 1024));
    byte[] body = "[[1, 2], {}, {}]".getBytes(StandardCharsets.UTF_8);
    try (Amqp amqp = new Amqp()) {
      // an ETA Java parses but whose epoch millis overflow
      Map<String, Object> farFuture = headers(UUID.randomUUID().toString());
      farFuture.put("eta", "+292278995-01-01T00:00:00");
      amqp.publish(queue, "application/json", farFuture, body);
      // a compression bomb: 64 MiB from a few KB
      Map<String, Object> bomb = headers(UUID.randomUUID().toString());
      bomb.put("compression", "application/x-gzip");
      amqp.publish(
          queue,
          "application/json",
          bomb,
          zlib("[[1, 2], {}, {}".getBytes(StandardCharsets.UTF_8), 64 << 20));
      // compressed garbage
      Map<String, Object> garbage = headers(UUID.randomUUID().toString());
      garbage.put("compression", "zlib");
      amqp.publish(
          queue, "application/json", garbage, "not zlib at all".getBytes(StandardCharsets.UTF_8));
      // an expiry that is not a date
      Map<String, Object> badExpiry = headers(UUID.randomUUID().toString());
      badExpiry.put("expires", List.of("soon"));
      amqp.publish(queue, "application/json", badExpiry, body);
    }
    List<Map<String, Object>> results =
        client.call(List.of(call("examples.add", List.of(20, 22), Map.of())));
    assertEquals("SUCCESS", results.get(0).get("state"), String.valueOf(results.get(0)));
    assertEquals(42, ((Number) results.get(0).get("result")).intValue());
    Polling.until(() -> worker.consumerStats().unsettled() == 0, 10_000);
    try (Amqp amqp = new Amqp()) {
      assertEquals(0, amqp.ready(queue), "nothing was requeued");
    }
  }
}

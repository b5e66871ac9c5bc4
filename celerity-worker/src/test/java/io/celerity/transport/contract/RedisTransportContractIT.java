package io.celerity.transport.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.it.Brokers;
import io.celerity.it.RedisCli;
import io.celerity.protocol.Json;
import io.celerity.support.Polling;
import io.celerity.types.Delivery;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The contract on Redis (kombu's transport). */
class RedisTransportContractIT extends TransportContract {

  @Override
  protected String url(int proxyPort) {
    return proxyPort == 0 ? Brokers.REDIS_URL : "redis://127.0.0.1:" + proxyPort + "/9";
  }

  @Override
  protected long waiting() throws Exception {
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      return redis.waiting(queue);
    }
  }

  @Override
  protected int[] brokerPort() {
    return new int[] {6379};
  }

  @Override
  protected void deleteQueue() throws Exception {
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      redis.deleteQueue(queue);
    }
  }

  /** A kombu envelope as a producer would push it, the body base64-encoded unless given raw. */
  private String envelope(String tag, String body, boolean encode) {
    return Json.encodeToString(
        Map.of(
            "body",
            encode ? Base64.getEncoder().encodeToString(body.getBytes()) : body,
            "content-type",
            "application/json",
            "content-encoding",
            "utf-8",
            "headers",
            Map.of("id", tag),
            "properties",
            Map.of(
                "delivery_tag",
                tag,
                "body_encoding",
                "base64",
                "delivery_info",
                Map.of("exchange", "", "routing_key", queue))));
  }

  @Test
  void aLargeMessageThatIsNotBase64IsDroppedAndTheQueueGoesOn() throws Exception {
    String large = "x".repeat(2 * 1024 * 1024);
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      // kombu pushes on the left and pops on the right: this order is the order of delivery
      redis.send("LPUSH", queue, envelope("t1", "first", true));
      // one base64 character too many: Python's b64decode refuses it too (incorrect padding)
      redis.send("LPUSH", queue, envelope("t2", large + "x", false));
      redis.send("LPUSH", queue, envelope("t3", "L" + large, true));
      redis.send("LPUSH", queue, envelope("t4", "last", true));
      start(url(0), false);
      for (String expected : new String[] {"first", "L" + large, "last"}) {
        Delivery d = next();
        assertEquals(expected.length(), d.body().length);
        assertTrue(expected.equals(body(d)), "the body as it was sent");
        run(() -> transport().ack(d));
      }
      Polling.until(() -> redis.unackedFor(queue) == 0, 10_000);
    }
    closeAndCheckNothingLeft();
  }

  @Test
  void manyRequeuesAtOnceAllPutTheirMessagesBack() throws Exception {
    // a warm shutdown requeues every held ETA task at once: each must leave unacked for its queue
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      for (int i = 0; i < 10; i++) {
        redis.send("LPUSH", queue, envelope("r" + i, "held " + i, true));
      }
      start(url(0), false); // prefetch 10: all ten held
      List<Delivery> held = new java.util.ArrayList<>();
      for (int i = 0; i < 10; i++) {
        held.add(next());
      }
      on(() -> transport().stopConsuming()); // as at a shutdown: nothing is popped again
      run(() -> held.forEach(d -> transport().reject(d, true)));
      Polling.until(() -> redis.unackedFor(queue) == 0, 10_000);
      assertEquals(10, waiting(), "every requeued message is back in its queue");
    }
  }
}

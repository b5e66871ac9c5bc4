package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.celerity.support.Polling;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Redis broker connection is cut (through a proxy) while tasks flow, batches of messages being
 * popped and recorded: the worker must reconnect, keep consuming, and every task must complete,
 * with nothing left behind in {@code unacked}.
 */
class RedisReconnectTest extends RedisTestBase {

  private TcpProxy proxy;

  @Override
  protected String queuePrefix() {
    return "redis-reconnect";
  }

  @Test
  void resumesConsumingAfterConnectionLossAndLosesNothing() throws Exception {
    proxy = proxy("127.0.0.1", 6379);
    // A short visibility timeout: messages popped in a batch whose reply the cut swallowed are
    // recorded in unacked but held by nobody, and come back the way a dead worker's do.
    String viaProxy = "redis://127.0.0.1:" + proxy.port() + "/10?visibility_timeout=3";
    startWorker(
        viaProxy,
        new JsonObject()
            .put("concurrency", 4)
            .put("prefetch_multiplier", 8)
            .put("reconnect_max_delay_ms", 500));
    List<String> ids = Reconnects.cutWhileTasksFlow(worker, client, proxy);
    Reconnects.assertAllSucceeded(
        worker,
        client,
        ids,
        () -> {
          try {
            return "broker: "
                + redis.waiting(queue)
                + " waiting, "
                + redis.unackedFor(queue)
                + " unacked";
          } catch (Exception e) {
            return "broker: not readable (" + e.getMessage() + ")";
          }
        });
    Polling.until(() -> redis.unackedFor(queue) == 0 && redis.waiting(queue) == 0, 10_000);
  }

  /**
   * The broker kills the worker's connections ({@code CLIENT KILL ID}) again and again during a
   * drain, at any point of a pop, a record, an ack: every task still completes, progress never
   * stops for long, and {@code unacked} is empty at the end. No short visibility timeout here:
   * nothing may depend on another worker's restore.
   */
  @Test
  void everyTaskCompletesWhenTheBrokerKillsOurConnectionsDuringADrain() throws Exception {
    proxy = proxy("127.0.0.1", 6379);
    String viaProxy = "redis://127.0.0.1:" + proxy.port() + "/10";
    int n = 3000;
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      calls.add(CeleryClient.call("examples.sleep", List.of(0.002), Map.of()));
    }
    List<String> ids = new ArrayList<>();
    client.send(calls).forEach(r -> ids.add((String) r.get("id")));
    startWorker(
        viaProxy, new JsonObject().put("concurrency", 8).put("reconnect_max_delay_ms", 500));

    int kills = 0;
    long lastDone = -1;
    long lastProgress = System.nanoTime();
    long longestStallMs = 0;
    java.util.Random random = new java.util.Random(20);
    while (true) {
      long done = worker.resultStats().succeeded();
      long now = System.nanoTime();
      if (done != lastDone) {
        lastDone = done;
        lastProgress = now;
      }
      longestStallMs = Math.max(longestStallMs, (now - lastProgress) / 1_000_000);
      if (done >= n || longestStallMs > 30_000) {
        break;
      }
      if (kills < 20 && done >= (kills + 1) * (n / 25)) {
        // every other kill hits the poller (last command a pop), the rest any of our connections
        List<String> ours = workerClientIds(kills % 2 == 0);
        if (!ours.isEmpty()) {
          redis.send("CLIENT", "KILL", "ID", ours.get(random.nextInt(ours.size())));
          kills++;
        }
      }
      java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
    }
    System.out.printf(
        "CLIENT KILL drain: %d kills, longest stall %d ms, stats %s%n",
        kills, longestStallMs, worker.consumerStats());
    assertEquals(20, kills, "connections killed during the drain");
    List<Map<String, Object>> results = client.get(ids, 60);
    long succeeded = results.stream().filter(r -> "SUCCESS".equals(r.get("state"))).count();
    assertEquals(n, succeeded, "tasks completed; consumer " + worker.consumerStats());
    Polling.until(() -> redis.unackedFor(queue) == 0 && redis.waiting(queue) == 0, 10_000);
  }

  /**
   * The Redis client ids of the worker's broker connections (those coming through the proxy), or of
   * its poller.
   */
  private List<String> workerClientIds(boolean pollerOnly) throws Exception {
    java.util.Set<Integer> ports = proxy.upstreamPorts();
    List<String> ids = new ArrayList<>();
    for (String line : redis.send("CLIENT", "LIST").toString().split("\n")) {
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("^id=(\\d+) addr=[^ ]*:(\\d+) ").matcher(line);
      if (m.find()
          && ports.contains(Integer.parseInt(m.group(2)))
          && (!pollerOnly || line.contains(" cmd=eval") || line.contains(" cmd=brpop"))) {
        ids.add(m.group(1));
      }
    }
    return ids;
  }
}

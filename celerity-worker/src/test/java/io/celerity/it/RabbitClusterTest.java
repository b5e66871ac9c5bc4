package io.celerity.it;

import static io.celerity.it.CeleryClient.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.BlockedThreadGuard;
import io.celerity.support.Polling;
import io.celerity.support.ProjectFiles;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A 3-node RabbitMQ cluster of the project's own (scripts/rabbitmq-cluster.sh, ports 5691-5693,
 * {@code consumer_timeout} 5 s checked every second), started once for the class and stopped after:
 * the node leading a quorum queue dies during a drain, and ETA tasks are held longer than the
 * broker's consumer timeout.
 */
class RabbitClusterTest {

  private static final int FIRST_PORT = 5691;
  private static final File DIR =
      new File(System.getProperty("java.io.tmpdir"), "celerity-rabbit-cluster-it");
  private static final int CONSUMER_TIMEOUT_MS = 5_000;

  private final List<Vertx> vertxes = new ArrayList<>();
  private final List<WorkerHarness> workers = new ArrayList<>();

  @BeforeAll
  static void startCluster() throws Exception {
    cluster(
        "start",
        "-p",
        String.valueOf(FIRST_PORT),
        "-d",
        DIR.getPath(),
        "-t",
        String.valueOf(CONSUMER_TIMEOUT_MS));
  }

  @AfterAll
  static void stopCluster() throws Exception {
    cluster("stop", "-d", DIR.getPath());
  }

  @AfterEach
  void tearDown() throws Exception {
    for (WorkerHarness w : workers) {
      w.close();
    }
    for (Vertx v : vertxes) {
      v.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private static String cluster(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of(ProjectFiles.path("scripts/rabbitmq-cluster.sh").toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(
          "rabbitmq-cluster.sh " + String.join(" ", args) + " failed: " + out);
    }
    return out.trim();
  }

  private static String node(int i) {
    return "amqp://guest:guest@127.0.0.1:" + (FIRST_PORT + i - 1) + "//";
  }

  private WorkerHarness worker(JsonObject config) throws Exception {
    Vertx v =
        BlockedThreadGuard
            .strictVertx(); // one Vert.x per worker: event-bus addresses are per worker
    vertxes.add(v);
    WorkerHarness w = WorkerHarness.start(v, config);
    workers.add(w);
    return w;
  }

  @Test
  void theQueueLeaderDiesDuringADrainAndEveryTaskCompletes() throws Exception {
    String queue = Brokers.uniqueQueue("leader");
    int concurrency = 4;
    int prefetchMultiplier = 4;
    WorkerHarness w =
        worker(
            WorkerHarness.config(node(1) + ";" + node(2) + ";" + node(3), Brokers.REDIS_URL, queue)
                .put("task_default_queue_type", "quorum")
                .put("concurrency", concurrency)
                .put("prefetch_multiplier", prefetchMultiplier)
                .put("reconnect_max_delay_ms", 1000));
    CeleryClient client =
        new CeleryClient(node(2), Brokers.REDIS_URL, queue, Map.of("x-queue-type", "quorum"));
    String leader = cluster("leader", queue, "-d", DIR.getPath()); // the worker declared the queue
    boolean connectedToLeader =
        w.consumerStats()
            .transport()
            .contains(":" + (FIRST_PORT + Integer.parseInt(leader) - 1) + "/");
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      calls.add(call("examples.sleep", List.of(0.05), Map.of()));
    }
    List<String> ids = new ArrayList<>();
    client.send(calls).forEach(r -> ids.add((String) r.get("id")));

    Polling.until(() -> w.resultStats().succeeded() >= 50, 60_000);
    long doneAtKill = w.resultStats().succeeded();
    cluster("kill", leader, "-d", DIR.getPath());
    long killed = System.nanoTime();
    if (connectedToLeader) {
      Polling.until(
          () -> w.consumerStats().reconnects() >= 1 && w.consumerStats().connected(), 60_000);
    }
    long reconnectedMs = (System.nanoTime() - killed) / 1_000_000;
    Polling.until(() -> w.resultStats().succeeded() >= ids.size(), 120_000);
    long allDoneMs = (System.nanoTime() - killed) / 1_000_000;
    List<Map<String, Object>> results = client.get(ids, 60);
    assertEquals(
        ids.size(),
        results.stream().filter(r -> "SUCCESS".equals(r.get("state"))).count(),
        "every task completed after node " + leader + " died; consumer " + w.consumerStats());
    long duplicates = w.resultStats().succeeded() - ids.size();
    int window = concurrency * prefetchMultiplier + concurrency;
    assertTrue(
        duplicates <= window, duplicates + " ran twice, beyond the in-flight window of " + window);
    System.out.printf(
        "cluster: leader ha%s killed after %d of %d tasks (worker %s it); worker consuming again %d ms"
            + " later, all done %d ms later; reconnects %d; %d ran twice (window %d)%n",
        leader,
        doneAtKill,
        ids.size(),
        connectedToLeader ? "connected to" : "not connected to",
        reconnectedMs,
        allDoneMs,
        w.consumerStats().reconnects(),
        duplicates,
        window);
  }

  /**
   * ETA tasks held past RabbitMQ's {@code consumer_timeout}: with native delayed delivery (the
   * default for quorum queues) they wait in the broker and nothing is held; held unacked ({@code
   * native_delayed_delivery: off}) the broker closes the channel every consumer_timeout and
   * redelivers them, and they still run once, at their ETA.
   */
  @Test
  void etaTasksHeldLongerThanTheConsumerTimeoutAreNeitherLostNorRunTwice() throws Exception {
    String inBroker = Brokers.uniqueQueue("ct-delayed");
    String held = Brokers.uniqueQueue("ct-held");
    WorkerHarness delayed =
        worker(
            WorkerHarness.config(node(1), Brokers.REDIS_URL, inBroker)
                .put("task_default_queue_type", "quorum")
                .put("reconnect_max_delay_ms", 1000));
    WorkerHarness holding =
        worker(
            WorkerHarness.config(node(1), Brokers.REDIS_URL, held)
                .put("native_delayed_delivery", "off")
                .put("reconnect_max_delay_ms", 1000));
    Instant eta = Instant.now().plusMillis(3L * CONSUMER_TIMEOUT_MS);
    List<String> delayedIds =
        sendEta(
            new CeleryClient(
                node(1), Brokers.REDIS_URL, inBroker, Map.of("x-queue-type", "quorum")),
            eta);
    List<String> heldIds = sendEta(new CeleryClient(node(1), Brokers.REDIS_URL, held), eta);

    for (List<String> ids : List.of(delayedIds, heldIds)) {
      List<Map<String, Object>> results =
          new CeleryClient(node(1), Brokers.REDIS_URL, inBroker).get(ids, 120);
      assertEquals(
          ids.size(),
          results.stream().filter(r -> "SUCCESS".equals(r.get("state"))).count(),
          results.toString());
    }
    for (WorkerHarness w : List.of(delayed, holding)) {
      Polling.until(() -> w.resultStats().succeeded() >= 3, 10_000);
      assertEquals(3L, w.resultStats().succeeded(), "each ran once");
    }
    assertEquals(
        0L, delayed.consumerStats().reconnects(), "nothing held: " + delayed.consumerStats());
    long loops = holding.consumerStats().reconnects();
    assertTrue(
        loops >= 1,
        "held past consumer_timeout, the channel was closed: " + holding.consumerStats());
    System.out.printf(
        "consumer_timeout %d ms, ETA %d ms away: delayed in broker 0 reconnects; held unacked %d reconnects"
            + " (channel closed by the broker, tasks redelivered and held again); each task ran once in both%n",
        CONSUMER_TIMEOUT_MS, 3 * CONSUMER_TIMEOUT_MS, loops);
  }

  private static List<String> sendEta(CeleryClient client, Instant eta) throws Exception {
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Map<String, Object> c =
          new java.util.HashMap<>(call("examples.add", List.of(i, 1), Map.of()));
      c.put("options", Map.of("eta", eta.toString()));
      calls.add(c);
    }
    List<String> ids = new ArrayList<>();
    client.send(calls).forEach(r -> ids.add((String) r.get("id")));
    return ids;
  }
}

package io.celerity.it;

import static io.celerity.it.CeleryClient.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.celerity.support.ProjectFiles;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Redis Sentinel failover for real (scripts/redis-sentinel.sh: a master, a replica, three Sentinels
 * on ports of their own): the master is killed during a drain and the worker follows the master the
 * Sentinels promote. The same run with a Python Celery 5.2 worker (kombu's Redis transport)
 * measures what kombu loses there.
 */
class SentinelFailoverTest extends AmqpTestBase {

  private static final int FIRST_PORT = 6396;
  private static final File DIR =
      new File(System.getProperty("java.io.tmpdir"), "celerity-redis-sentinel-it");
  private static final String SENTINELS =
      "sentinel://127.0.0.1:"
          + (FIRST_PORT + 20000)
          + ";sentinel://127.0.0.1:"
          + (FIRST_PORT + 20001)
          + ";sentinel://127.0.0.1:"
          + (FIRST_PORT + 20002)
          + "/0";
  private static final Pattern SUCCEEDED =
      Pattern.compile("Task examples\\.sleep\\[([0-9a-f-]+)\\] succeeded");

  @Override
  protected String queuePrefix() {
    return "sentinel";
  }

  @BeforeEach
  void startRedis() throws Exception {
    sentinel("start");
  }

  @AfterEach
  void stopRedis() throws Exception {
    sentinel("stop");
  }

  private static String sentinel(String action) throws Exception {
    Process p =
        new ProcessBuilder(
                ProjectFiles.path("scripts/redis-sentinel.sh").toString(),
                action,
                "-p",
                String.valueOf(FIRST_PORT),
                "-d",
                DIR.getPath())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("redis-sentinel.sh " + action + " failed: " + out);
    }
    return out;
  }

  private List<String> sendTasks(int n) throws Exception {
    // published to the master directly, all before the kill
    CeleryClient direct =
        new CeleryClient("redis://127.0.0.1:" + FIRST_PORT + "/0", Brokers.REDIS_URL, queue);
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      calls.add(call("examples.sleep", List.of(0.02), Map.of()));
    }
    List<String> ids = new ArrayList<>();
    direct.send(calls).forEach(r -> ids.add((String) r.get("id")));
    return ids;
  }

  /**
   * Kills the master and waits until the Sentinels name another one; returns the milliseconds that
   * took.
   */
  private static long killMaster() throws Exception {
    String old = sentinel("master");
    long t0 = System.nanoTime();
    sentinel("kill-master");
    Polling.until(() -> !sentinel("master").equals(old), 30_000);
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private long succeeded(List<String> ids) throws Exception {
    return client.get(ids, 20).stream().filter(r -> "SUCCESS".equals(r.get("state"))).count();
  }

  @Test
  void theWorkerFollowsTheNewMasterAndLosesNothing() throws Exception {
    int n = 300;
    int concurrency = 4;
    startWorker(
        new JsonObject()
            .put("broker", SENTINELS)
            .put("concurrency", concurrency)
            .put("prefetch_multiplier", 4)
            .put("reconnect_max_delay_ms", 1000)
            .put(
                "broker_transport_options",
                new JsonObject().put("master_name", "celerity-ha").put("visibility_timeout", 20)));
    List<String> ids = sendTasks(n);
    Polling.until(() -> worker.resultStats().succeeded() >= 50, 60_000);
    long doneAtKill = worker.resultStats().succeeded();
    long t0 = System.nanoTime();
    long promotedMs = killMaster();
    Polling.until(
        () -> worker.consumerStats().reconnects() >= 1 && worker.consumerStats().connected(),
        60_000);
    long followedMs = (System.nanoTime() - t0) / 1_000_000;
    long ok = succeeded(ids);
    Polling.until(() -> worker.resultStats().succeeded() >= ok, 10_000);
    long ran = worker.resultStats().succeeded();
    System.out.printf(
        "sentinel (celerity): killed the master after %d of %d; Sentinels promoted the replica in %d ms,"
            + " worker consuming again after %d ms; lost %d, ran twice %d%n",
        doneAtKill, n, promotedMs, followedMs, n - ok, ran - ok);
    assertEquals(n, ok, "every task completed on the new master: " + worker.consumerStats());
    assertTrue(ran - ok <= 4L * concurrency + concurrency, (ran - ok) + " ran twice");
  }

  /** kombu's Redis transport in the same failover, measured (Celery 5.2.6, -P solo). */
  @Test
  void kombusRedisTransportInTheSameFailover() throws Exception {
    int n = 150;
    Map<String, String> env = new HashMap<>();
    env.put(
        "CELERITY_TEST_BROKER_TRANSPORT_OPTIONS",
        "{\"master_name\": \"celerity-ha\", \"visibility_timeout\": 20}");
    try (PythonWorker py =
        PythonWorker.start(SENTINELS.replace("/0", ""), Brokers.REDIS_URL, queue, env)) {
      List<String> ids = sendTasks(n);
      Polling.until(() -> count(py.log(), false) >= 30, 60_000);
      long doneAtKill = count(py.log(), false);
      long t0 = System.nanoTime();
      long promotedMs = killMaster();
      Polling.until(() -> count(py.log(), false) > doneAtKill + 5, 60_000);
      long followedMs = (System.nanoTime() - t0) / 1_000_000;
      long ok = succeeded(ids);
      String log = py.log();
      System.out.printf(
          "sentinel (kombu 5.2 / Celery 5.2.6): killed the master after %d of %d; promoted in %d ms,"
              + " worker running tasks again after %d ms; lost %d, ran twice %d%n",
          doneAtKill, n, promotedMs, followedMs, n - ok, count(log, false) - count(log, true));
      assertTrue(
          count(log, false) > doneAtKill, "the Python worker followed the new master:\n" + log);
    }
  }

  /** Tasks the Python worker logged as succeeded: every line, or distinct ids. */
  private static long count(String log, boolean distinct) {
    Matcher m = SUCCEEDED.matcher(log);
    List<String> all = new ArrayList<>();
    while (m.find()) {
      all.add(m.group(1));
    }
    return distinct ? all.stream().distinct().count() : all.size();
  }
}

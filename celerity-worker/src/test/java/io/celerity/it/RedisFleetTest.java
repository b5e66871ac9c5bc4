package io.celerity.it;

import static io.celerity.it.CeleryClient.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Our worker next to a Python Celery worker on one Redis queue, and a worker killed while it holds
 * messages.
 */
class RedisFleetTest extends RedisTestBase {

  @Override
  protected String queuePrefix() {
    return "redis-fleet";
  }

  @Test
  void mixedFleetRunsEveryTaskExactlyOnce() throws Exception {
    int n = 200;
    try (PythonWorker py = PythonWorker.start(brokerUrl(), resultsUrl(), queue, Map.of())) {
      try (WorkerHarness ours =
          WorkerHarness.start(vertx, WorkerHarness.config(brokerUrl(), resultsUrl(), queue))) {
        List<Map<String, Object>> calls = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          calls.add(call("examples.add", List.of(i, i), Map.of()));
        }
        List<Map<String, Object>> r =
            client.call(
                calls.stream()
                    .map(
                        c -> {
                          Map<String, Object> m = new java.util.HashMap<>(c);
                          m.put("timeout", 60);
                          return m;
                        })
                    .toList());
        for (int i = 0; i < n; i++) {
          assertEquals("SUCCESS", r.get(i).get("state"), "task " + i);
          assertEquals(2 * i, r.get(i).get("result"));
        }
        Polling.until(() -> redis.unackedFor(queue) == 0, 10_000);
        long oursDone = ours.resultStats().succeeded();
        Polling.until(() -> oursDone + pythonSucceeded(py) >= n, 10_000);
        long pyDone = pythonSucceeded(py);
        assertEquals(
            n,
            oursDone + pyDone,
            "ours " + oursDone + " + Python " + pyDone + ": a task ran twice");
        assertTrue(
            pyDone > 0 && oursDone > 0,
            "both workers took tasks (ours " + oursDone + ", Python " + pyDone + ")");
        assertEquals(0, redis.waiting(queue));
      }
    }
  }

  private static long pythonSucceeded(PythonWorker py) throws Exception {
    return py.log().lines().filter(l -> l.contains("] succeeded in ")).count();
  }

  @Test
  void messagesOfAKilledWorkerAreRestoredAndComplete() throws Exception {
    int n = 6;
    List<Map<String, Object>> sent;
    try (WorkerProcess first =
        WorkerProcess.start(
            "--broker",
            brokerUrl(),
            "--result-backend",
            resultsUrl(),
            "-Q",
            queue,
            "-c",
            "2",
            "--prefetch-multiplier",
            "3",
            "--http-port",
            "0",
            "-A",
            TestTasks.class.getName(),
            "-n",
            "first-" + queue + "@localhost")) {
      first.waitForLog("Connected to", 30_000);
      List<Map<String, Object>> calls = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        calls.add(call("tests.late", List.of(3.0), Map.of()));
      }
      sent = client.send(calls);
      Polling.until(() -> redis.unackedFor(queue) == n, 15_000);
      // kill -9 while it holds all of them (two running, four reserved), acks_late: none acked
      first.close();
      first.waitForExit(10_000);
    }
    assertEquals(n, redis.unackedFor(queue), "a killed worker leaves its messages in unacked");
    assertEquals(0, redis.waiting(queue));

    try (WorkerProcess second =
        WorkerProcess.start(
            "--broker",
            brokerUrl() + "?visibility_timeout=2",
            "--result-backend",
            resultsUrl(),
            "-Q",
            queue,
            "-c",
            String.valueOf(n),
            "--http-port",
            "0",
            "-A",
            TestTasks.class.getName(),
            "-n",
            "second-" + queue + "@localhost")) {
      List<Map<String, Object>> r =
          client.get(sent.stream().map(s -> (String) s.get("id")).toList(), 30);
      for (Map<String, Object> one : r) {
        assertEquals("SUCCESS", one.get("state"), () -> one + "\n" + logOf(second));
      }
      Polling.until(() -> redis.unackedFor(queue) == 0, 10_000);
      assertTrue(second.log().contains("unacknowledged messages older than 2.0s"), second.log());
    }
  }

  private static String logOf(WorkerProcess p) {
    try {
      return p.log();
    } catch (Exception e) {
      return e.toString();
    }
  }
}

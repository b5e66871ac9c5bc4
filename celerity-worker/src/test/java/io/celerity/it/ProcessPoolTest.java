package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code -P process} from the real Python client: Java tasks in child JVMs, Python tasks in the
 * Python child runner, hard time limits that kill, kill -9 mid-task, recycling and autoscale.
 */
class ProcessPoolTest extends AmqpTestBase {

  static final String PYTHON_CHILD =
      CeleryClient.PYTHON + " -m celerity_child -p src/test/python py_process_tasks plain_mul";

  @Override
  protected String queuePrefix() {
    return "process";
  }

  @Override
  protected void startWorker(JsonObject extra) throws Exception {
    super.startWorker(new JsonObject().put("pool", "process").put("concurrency", 2).mergeIn(extra));
  }

  private JsonObject processStats() throws Exception {
    return worker.poolStats().process();
  }

  private Set<Long> childPids() throws Exception {
    Set<Long> pids = new HashSet<>();
    processStats()
        .getJsonArray("processes")
        .forEach(o -> pids.add(((JsonObject) o).getLong("pid")));
    return pids;
  }

  /** The pid of the child running a task, once one is busy. */
  private long busyChild() throws Exception {
    long[] pid = {-1};
    Polling.until(
        () -> {
          for (Object o : processStats().getJsonArray("processes")) {
            JsonObject c = (JsonObject) o;
            if (c.getBoolean("busy")) {
              pid[0] = c.getLong("pid");
              return true;
            }
          }
          return false;
        },
        20_000);
    return pid[0];
  }

  private static Map<String, Object> call(
      String task, List<?> args, Map<String, ?> kwargs, Map<String, ?> options) {
    return Map.of("task", task, "args", args, "kwargs", kwargs, "options", options, "timeout", 30);
  }

  @Test
  void javaTasksRunInChildJvmsAndHardLimitKillsTheChild() throws Exception {
    startWorker(
        new JsonObject()
            .put(
                "app",
                new JsonArray()
                    .add(ProcessTestTasks.class.getName())
                    .add(TestTasks.class.getName())));
    Set<Long> before = childPids();
    assertEquals(2, before.size());
    assertTrue(!before.contains(ProcessHandle.current().pid()));
    List<Map<String, Object>> r =
        client.call(
            List.of(
                CeleryClient.call("examples.add", List.of(2, 2), Map.of()),
                CeleryClient.call("proc.pid", List.of(), Map.of()),
                CeleryClient.call("tests.java_error", List.of("boom"), Map.of()),
                call("tests.busy", List.of(30), Map.of(), Map.of("time_limit", 1))));
    assertEquals(4, r.get(0).get("result"));
    assertTrue(before.contains(((Number) r.get(1).get("result")).longValue()), r.toString());
    assertEquals("IllegalStateException", r.get(2).get("exc_type"));
    assertEquals("FAILURE", r.get(3).get("state"));
    assertEquals("TimeLimitExceeded", r.get(3).get("exc_type"));
    // the spinning child was killed and replaced
    Polling.until(
        () ->
            childPids().size() == 2
                && !childPids().containsAll(before)
                && processStats().getJsonArray("processes").stream()
                    .allMatch(o -> ((JsonObject) o).getBoolean("ready")),
        20_000);
    assertEquals(
        6,
        client
            .call(List.of(CeleryClient.call("examples.mul", List.of(2, 3), Map.of())))
            .get(0)
            .get("result"));
  }

  @Test
  void pythonTasksRunInThePythonChild() throws Exception {
    startWorker(new JsonObject().put("child_command", PYTHON_CHILD).put("load_examples", false));
    List<Map<String, Object>> r =
        client.call(
            List.of(
                CeleryClient.call("pyproc.add", List.of(2, 3), Map.of()),
                CeleryClient.call("pyproc.fail", List.of("kaboom"), Map.of()),
                CeleryClient.call("pyproc.info", List.of(1), Map.of("k", "v")),
                CeleryClient.call("pyproc.flaky", List.of(2), Map.of()),
                CeleryClient.call("py_process_tasks.plain_mul", List.of(6, 7), Map.of()),
                call("pyproc.soft", List.of(), Map.of(), Map.of("soft_time_limit", 0.5)),
                call("pyproc.sleep", List.of(30), Map.of(), Map.of("time_limit", 1))));
    assertEquals(5, r.get(0).get("result"));
    assertEquals("ValueError", r.get(1).get("exc_type"));
    assertEquals(List.of("kaboom"), r.get(1).get("exc_args"));
    @SuppressWarnings("unchecked")
    Map<String, Object> info = (Map<String, Object>) r.get(2).get("result");
    assertEquals(r.get(2).get("id"), info.get("id"));
    assertEquals(Map.of("k", "v"), info.get("kwargs"));
    assertEquals(List.of(1), info.get("args"));
    assertEquals("ok after 2", r.get(3).get("result"), r.get(3).toString());
    assertEquals(42, r.get(4).get("result"));
    assertEquals("cleaned up", r.get(5).get("result"), r.get(5).toString());
    assertEquals("TimeLimitExceeded", r.get(6).get("exc_type"));
    assertEquals(
        5,
        client
            .call(List.of(CeleryClient.call("pyproc.add", List.of(1, 4), Map.of())))
            .get(0)
            .get("result"));
  }

  @Test
  void killDashNineMidTaskIsWorkerLostError() throws Exception {
    startWorker(new JsonObject().put("child_command", PYTHON_CHILD).put("load_examples", false));
    String id =
        (String)
            client
                .send(List.of(CeleryClient.call("pyproc.sleep", List.of(30), Map.of())))
                .get(0)
                .get("id");
    long pid = busyChild();
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    Map<String, Object> r = client.get(List.of(id), 20).get(0);
    assertEquals("FAILURE", r.get("state"));
    assertEquals("WorkerLostError", r.get("exc_type"));
    assertEquals("billiard.exceptions", r.get("exc_module"));
    String msg = String.valueOf(((List<?>) r.get("exc_args")).get(0));
    assertTrue(msg.matches("Worker exited prematurely: signal 9 \\(SIGKILL\\) Job: \\d+\\."), msg);
    Polling.until(() -> childPids().size() == 2 && !childPids().contains(pid), 20_000);
    assertEquals(
        5,
        client
            .call(List.of(CeleryClient.call("pyproc.add", List.of(1, 4), Map.of())))
            .get(0)
            .get("result"));
  }

  @Test
  void rejectOnWorkerLostRequeuesTheMessage() throws Exception {
    startWorker(
        new JsonObject()
            .put("child_command", PYTHON_CHILD)
            .put("load_examples", false)
            .put("acks_late", true)
            .put("reject_on_worker_lost", true)
            .put("concurrency", 1));
    String id =
        (String)
            client
                .send(List.of(CeleryClient.call("pyproc.sleep", List.of(30), Map.of())))
                .get(0)
                .get("id");
    long pid = busyChild();
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    // redelivered and started again in the replacement child
    Polling.until(
        () -> worker.poolStats().processed() == 2 && worker.poolStats().active() == 1, 20_000);
    assertNotEquals(pid, busyChild());
    Map<String, Object> r = client.get(List.of(id), 0.5).get(0);
    assertEquals(Boolean.TRUE, r.get("timed_out"), r.toString()); // no FAILURE was stored
  }

  @Test
  void maxTasksPerChildRecyclesChildren() throws Exception {
    startWorker(
        new JsonObject()
            .put("child_command", PYTHON_CHILD)
            .put("load_examples", false)
            .put("concurrency", 1)
            .put("max_tasks_per_child", 2));
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      calls.add(CeleryClient.call("pyproc.pid", List.of(), Map.of()));
    }
    // Celery's guarantee: no child runs more than max_tasks_per_child tasks (a warm spare may
    // take over earlier, so more children than 6/2 may be used).
    Map<Object, Integer> perChild = new HashMap<>();
    client.call(calls).forEach(r -> perChild.merge(r.get("result"), 1, Integer::sum));
    assertTrue(perChild.size() >= 3, perChild.toString());
    perChild
        .values()
        .forEach(n -> assertTrue(n <= 2, "a child ran more than 2 tasks: " + perChild));
  }

  @Test
  void autoscaleGrowsUnderABurstAndShrinksAfter() throws Exception {
    startWorker(
        new JsonObject()
            .put("child_command", PYTHON_CHILD)
            .put("load_examples", false)
            .put("autoscale", "3,1")
            .put("autoscale_keepalive", 1.0));
    assertEquals(1, worker.poolStats().maxConcurrency());
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      calls.add(CeleryClient.call("pyproc.sleep", List.of(1), Map.of()));
    }
    List<Object> ids = new ArrayList<>();
    client.send(calls).forEach(s -> ids.add(s.get("id")));
    Polling.until(
        () -> worker.poolStats().maxConcurrency() == 3 && worker.poolStats().active() == 3, 20_000);
    List<String> idList = new ArrayList<>();
    ids.forEach(i -> idList.add((String) i));
    client.get(idList, 30).forEach(r -> assertEquals("SUCCESS", r.get("state"), r.toString()));
    Polling.until(
        () -> worker.poolStats().maxConcurrency() == 1 && childPids().size() == 1, 20_000);
  }
}

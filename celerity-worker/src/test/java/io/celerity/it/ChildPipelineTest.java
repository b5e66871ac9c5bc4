package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code child_pipeline} (issue 18): a busy Python child is written its next task before it
 * replies. What a user must not notice: a task queued behind a long one goes to the first idle
 * child, a revoked queued task never runs, and a queued task outlives its child's death.
 */
class ChildPipelineTest extends AmqpTestBase {

  @Override
  protected String queuePrefix() {
    return "pipeline";
  }

  private void startWorker(int concurrency) throws Exception {
    startWorker(
        new JsonObject()
            .put("pool", "process")
            .put("concurrency", concurrency)
            .put("load_examples", false)
            .put("child_command", ProcessPoolTest.PYTHON_CHILD));
  }

  private JsonObject processStats() throws Exception {
    return worker.poolStats().process();
  }

  private List<String> send(List<Map<String, Object>> calls) throws Exception {
    return client.send(calls).stream().map(r -> (String) r.get("id")).toList();
  }

  @Test
  void aTaskQueuedBehindALongOneIsTakenBackForTheFirstIdleChild() throws Exception {
    startWorker(2);
    takenBackForTheIdleChild("pyproc.sleep", "pyproc.add");
  }

  @Test
  void javaChildrenGiveBackAQueuedTaskForAnIdleChildToo() throws Exception {
    startWorker(new JsonObject().put("pool", "process").put("concurrency", 2));
    takenBackForTheIdleChild("examples.sleep", "examples.add");
  }

  /**
   * Two children: a 2 s task, a 60 s one, then a short one, queued behind the task that started
   * last (the long one); once the first child idles it runs there, while the long one still runs.
   */
  private void takenBackForTheIdleChild(String sleep, String add) throws Exception {
    List<String> ids =
        send(
            List.of(
                CeleryClient.call(sleep, List.of(2), Map.of()),
                CeleryClient.call(sleep, List.of(60), Map.of()),
                CeleryClient.call(add, List.of(2, 3), Map.of())));
    Polling.until(() -> processStats().getLong("pipelined") == 1, 20_000);
    Map<String, Object> queued = client.get(List.of(ids.get(2)), 30).get(0);
    assertEquals(5, queued.get("result"), queued.toString());
    assertEquals(1L, processStats().getLong("stolen"), processStats().encode());
    assertEquals(
        Boolean.TRUE,
        client.get(List.of(ids.get(1)), 0.1).get(0).get("timed_out"),
        "the long task still runs: the queued one did not wait for it");
    client.control("revoke", Map.of("task_id", ids.get(1), "terminate", true));
    assertEquals("REVOKED", client.get(List.of(ids.get(1)), 20).get(0).get("state"));
  }

  /**
   * The race the steal-back can lose: the child had begun the task when the word came (`begun`).
   * The task runs there after all, and its time limit counts from then.
   */
  @Test
  void aTaskAskedBackTooLateRunsWithItsTimeLimit() throws Exception {
    startWorker(
        new JsonObject()
            .put("pool", "process")
            .put("concurrency", 2)
            .put("load_examples", false)
            .put("child_command", CeleryClient.PYTHON + " src/test/python/late_child.py"));
    List<String> ids =
        send(
            List.of(
                CeleryClient.call("late.sleep", List.of(1), Map.of()),
                CeleryClient.call("late.sleep", List.of(3), Map.of()),
                Map.of(
                    "task",
                    "late.sleep",
                    "args",
                    List.of(30),
                    "kwargs",
                    Map.of(),
                    "options",
                    Map.of("time_limit", 1),
                    "timeout",
                    30)));
    List<Map<String, Object>> r = client.get(ids, 25);
    assertEquals(1, r.get(0).get("result"), r.toString());
    assertEquals(3, r.get(1).get("result"), r.toString());
    assertEquals("FAILURE", r.get(2).get("state"), r.toString());
    assertEquals("TimeLimitExceeded", r.get(2).get("exc_type"), r.toString());
    assertEquals(1L, processStats().getLong("stolen"), "it was asked back: " + processStats());
  }

  @Test
  void aRevokedTaskQueuedInAChildIsSkippedAndTheRestGoesOn() throws Exception {
    startWorker(1);
    Path trace = Files.createTempFile("celerity-pipeline", ".ran");
    Files.delete(trace);
    List<String> ids =
        send(
            List.of(
                CeleryClient.call("pyproc.sleep", List.of(4), Map.of()),
                CeleryClient.call("pyproc.touch", List.of(trace.toString()), Map.of()),
                CeleryClient.call("pyproc.add", List.of(1, 2), Map.of())));
    Polling.until(() -> processStats().getLong("pipelined") == 1, 20_000);
    client.control("revoke", Map.of("task_id", ids.get(1)));
    List<Map<String, Object>> r = client.get(ids, 30);
    assertEquals(4, r.get(0).get("result"), r.toString());
    assertEquals("REVOKED", r.get(1).get("state"), r.toString());
    assertEquals(List.of("revoked"), r.get(1).get("exc_args"), r.toString());
    assertEquals(3, r.get(2).get("result"), r.toString());
    // the task after it ran in the same child, so the revoked one would have run before it
    assertFalse(Files.exists(trace), "the revoked task ran");
    assertEquals(1L, processStats().getLong("spawned"), "the child was kept");
  }

  @Test
  void aTaskQueuedInAChildKilledAtItsHardLimitRunsInTheReplacement() throws Exception {
    startWorker(1);
    List<String> ids =
        send(
            List.of(
                Map.of(
                    "task",
                    "pyproc.sleep",
                    "args",
                    List.of(60),
                    "kwargs",
                    Map.of(),
                    "options",
                    Map.of("time_limit", 2),
                    "timeout",
                    30),
                CeleryClient.call("pyproc.add", List.of(20, 22), Map.of())));
    Polling.until(() -> processStats().getLong("pipelined") == 1, 20_000);
    List<Map<String, Object>> r = client.get(ids, 30);
    assertEquals("FAILURE", r.get(0).get("state"), r.toString());
    assertEquals("TimeLimitExceeded", r.get(0).get("exc_type"), r.toString());
    assertEquals(42, r.get(1).get("result"), r.toString());
    assertTrue(processStats().getLong("spawned") >= 2, "the killed child was replaced");
  }
}

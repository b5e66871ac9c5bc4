package io.celerity.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterStateTest {

  private static Map<String, Object> event(String type, String uuid, double ts, Object... kv) {
    Map<String, Object> e = new HashMap<>();
    e.put("type", type);
    e.put("hostname", "w1@h");
    e.put("timestamp", ts);
    if (uuid != null) {
      e.put("uuid", uuid);
    }
    for (int i = 0; i < kv.length; i += 2) {
      e.put((String) kv[i], kv[i + 1]);
    }
    return e;
  }

  @Test
  void taskEventsMergeIntoCelerysFieldsWhateverTheirOrder() {
    ClusterState s = new ClusterState(100, 10);
    s.event(event("task-started", "a", 10.1), 10.1);
    s.event(event("task-succeeded", "a", 10.3, "result", "4", "runtime", 0.2), 10.3);
    // received arrives last (another loop's batch): fills in name and args, the state stays SUCCESS
    s.event(
        event(
            "task-received",
            "a",
            10.0,
            "name",
            "tasks.add",
            "args",
            "[2, 2]",
            "kwargs",
            "{}",
            "retries",
            0,
            "result",
            "should not win"),
        10.4);
    Map<String, Object> a = s.task("a", false).asDict();
    assertEquals("SUCCESS", a.get("state"));
    assertEquals("tasks.add", a.get("name"));
    assertEquals("[2, 2]", a.get("args"));
    assertEquals("4", a.get("result"));
    assertEquals(0.2, a.get("runtime"));
    assertEquals(10.0, a.get("received"));
    assertEquals(10.1, a.get("started"));
    assertEquals(10.3, a.get("succeeded"));
    assertEquals(10.3, a.get("timestamp"));
    assertEquals("w1@h", a.get("worker"));
    assertEquals(
        ClusterState.TASK_FIELDS, List.copyOf(a.keySet()), "Flower's keys, in Celery's order");
  }

  @Test
  void retryIsAlwaysTakenAndFailureCarriesTheException() {
    ClusterState s = new ClusterState(100, 10);
    s.event(event("task-received", "r", 1, "name", "t"), 1);
    s.event(event("task-retried", "r", 2, "exception", "Retry('x')"), 2);
    assertEquals("RETRY", s.task("r", false).state());
    s.event(event("task-failed", "r", 3, "exception", "ValueError('x')", "traceback", "tb"), 3);
    assertEquals("FAILURE", s.task("r", false).state());
    assertEquals("ValueError('x')", s.task("r", false).asDict().get("exception"));
  }

  @Test
  void historyIsBoundedOldestSeenFirstOut() {
    ClusterState s = new ClusterState(3, 10);
    for (int i = 0; i < 5; i++) {
      s.event(event("task-received", "t" + i, i, "name", "n"), i);
    }
    assertEquals(3, s.taskCount());
    assertNull(s.task("t0", false));
    assertNull(s.task("t1", false));
    assertEquals(
        List.of("t4", "t3", "t2"),
        s.tasksByTimestamp().stream().map(ClusterState.Task::uuid).toList());
  }

  @Test
  void filtersAsFlowerDoes() {
    ClusterState s = new ClusterState(100, 10);
    s.event(event("task-received", "a", 1, "name", "add"), 1);
    s.event(event("task-succeeded", "a", 2), 2);
    s.event(event("task-received", "b", 3, "name", "mul"), 3);
    s.event(event("task-received", "c", 4, "name", "add", "hostname", "w2@h"), 4);
    assertEquals(
        List.of("c", "a"),
        s.tasks("add", null, null, 0, null).stream().map(ClusterState.Task::uuid).toList());
    assertEquals(
        List.of("a"),
        s.tasks(null, null, "SUCCESS", 0, null).stream().map(ClusterState.Task::uuid).toList());
    assertEquals(
        List.of("c"),
        s.tasks(null, "w2@h", null, 0, null).stream().map(ClusterState.Task::uuid).toList());
    assertEquals(
        List.of("b"),
        s.tasks(null, null, null, 1, 1).stream().map(ClusterState.Task::uuid).toList());
    assertEquals(List.of("add", "mul"), s.taskTypes());
  }

  @Test
  void workersAreAliveUntilTwoIntervalsAfterTheirLastHeartbeatAndOfflineAtOnce() {
    ClusterState s = new ClusterState(10, 10);
    s.event(
        event(
            "worker-online",
            null,
            100,
            "freq",
            2.0,
            "active",
            0,
            "processed",
            0,
            "sw_ident",
            "py-celery"),
        100);
    ClusterState.Worker w = s.worker("w1@h", false);
    assertTrue(w.alive(103.9));
    assertFalse(w.alive(104.1));
    s.event(event("worker-heartbeat", null, 110, "freq", 2.0, "active", 1, "processed", 7), 110);
    assertTrue(w.alive(111));
    assertEquals(7, w.fields().get("processed"));
    assertEquals("py-celery", w.fields().get("sw_ident"));
    s.event(event("worker-offline", null, 112), 112);
    assertFalse(w.alive(112));
    assertEquals("OFFLINE", w.view(112).get("status"));
  }

  @Test
  void aWorkerSeenOnlyThroughTaskEventsIsAliveWithCelerysDefaultInterval() {
    ClusterState s = new ClusterState(10, 10);
    s.event(event("task-received", "a", 50, "hostname", "py@h", "name", "x"), 50);
    assertTrue(s.worker("py@h", false).alive(50 + 119));
    assertFalse(s.worker("py@h", false).alive(50 + 121));
  }

  @Test
  void typeStatsCountFinishedTasksPerBucketWithRuntimePercentiles() {
    ClusterState s = new ClusterState(1000, 10);
    for (int i = 1; i <= 100; i++) {
      String id = "t" + i;
      s.event(event("task-received", id, 90, "name", "work"), 90);
      s.event(event("task-succeeded", id, i <= 50 ? 93 : 99, "runtime", i / 100.0), 99);
    }
    s.event(event("task-received", "old", 10, "name", "work"), 10);
    s.event(event("task-failed", "old", 11, "exception", "E()"), 11); // outside the window
    ClusterState.TypeStats st = s.typeStats(100, 10, 5).get("work");
    assertEquals(2, st.finished().length);
    assertEquals(50, st.finished()[0]);
    assertEquals(50, st.finished()[1]);
    assertEquals(10.0, st.rate());
    assertEquals(0.5, st.p50());
    assertEquals(0.9, st.p90());
    assertEquals(0.99, st.p99());
    assertEquals(100L, st.states().get("SUCCESS"));
    assertEquals(1L, st.states().get("FAILURE"));
  }

  @Test
  void childrenAreListedUnderTheirParent() {
    ClusterState s = new ClusterState(10, 10);
    s.event(event("task-received", "p", 1, "name", "chain"), 1);
    s.event(event("task-received", "c", 2, "name", "step", "parent_id", "p", "root_id", "p"), 2);
    assertEquals(List.of("c"), s.task("p", false).asDict().get("children"));
    assertEquals("p", s.task("c", false).asDict().get("parent"));
  }
}

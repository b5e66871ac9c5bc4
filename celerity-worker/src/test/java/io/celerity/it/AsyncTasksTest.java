package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.celerity.protocol.Json;
import io.celerity.support.Polling;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/**
 * Async tasks seen from the real Python client: Java tasks returning futures (event loops, bounded
 * by {@code async_concurrency}) and Python {@code async def} tasks in {@code -P process} children
 * (src/test/python/pyaio.py, sync and async tasks in one module, several coroutines per child).
 */
class AsyncTasksTest extends AmqpTestBase {

  private String logKey;
  private String gateKey;

  @Override
  protected String queuePrefix() {
    return "async";
  }

  @AfterEach
  void dropKeys() throws Exception {
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      for (String key : new String[] {logKey, gateKey}) {
        if (key != null) {
          redis.send("DEL", key);
        }
      }
    }
  }

  private void startJava(JsonObject extra) throws Exception {
    startWorker(
        new JsonObject()
            .put("concurrency", 1)
            .put("load_examples", false)
            .put("app", new JsonArray().add(AsyncTestTasks.class.getName()))
            .mergeIn(extra));
  }

  private void startPython(int children, int coroutines, JsonObject extra) throws Exception {
    logKey = "pyaio-log-" + queue;
    gateKey = "pyaio-gate-" + queue;
    String command =
        "env PYAIO_LOG="
            + logKey
            + " PYAIO_QUEUE="
            + queue
            + " "
            + CeleryClient.PYTHON
            + " -m celerity_child -p src/test/python pyaio";
    startWorker(
        new JsonObject()
            .put("pool", "process")
            .put("concurrency", children)
            .put("load_examples", false)
            .put("child_async_concurrency", coroutines)
            .put("child_command", command)
            .mergeIn(extra));
  }

  private static Map<String, Object> call(String task, List<?> args, Map<String, ?> options) {
    Map<String, Object> c = new LinkedHashMap<>(CeleryClient.call(task, args, Map.of()));
    c.put("options", options);
    c.put("timeout", 30);
    return c;
  }

  private List<String> send(List<Map<String, Object>> calls) throws Exception {
    return client.send(calls).stream().map(r -> (String) r.get("id")).toList();
  }

  private List<Map<String, Object>> inspect(String what) throws Exception {
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> out =
        (List<Map<String, Object>>)
            new CeleryControl(Brokers.AMQP_URL).cliJson("inspect", what, "-d", node()).get(node());
    return out;
  }

  private void terminate(String id) throws Exception {
    new CeleryControl(Brokers.AMQP_URL)
        .cliJson("control", "terminate", "SIGTERM", id, "-d", node());
  }

  private void awaitActive(String pool, int n) throws Exception {
    Polling.until(() -> poolPart(pool).getInteger("active") == n, 30_000);
  }

  private static List<Object> states(List<Map<String, Object>> results) {
    return results.stream().map(r -> r.get("state")).toList();
  }

  // --- Java ---

  @Test
  void javaAsyncResultsRetriesFailuresAndEvents() throws Exception {
    // the receiver stops at the first task-failed: the failing task is sent once the others are
    // done
    CeleryControl.EventCapture capture =
        new CeleryControl(Brokers.AMQP_URL).events(node(), 60, "task-failed");
    startJava(new JsonObject().put("task_events", true));
    List<Map<String, Object>> r =
        new ArrayList<>(
            client.call(
                List.of(
                    CeleryClient.call("jaio.request", List.of(), Map.of()),
                    CeleryClient.call("jaio.retrying", List.of(), Map.of()))));
    r.add(2, client.call(List.of(CeleryClient.call("jaio.wait", List.of(0.05), Map.of()))).get(0));
    r.add(
        2, client.call(List.of(CeleryClient.call("jaio.failing", List.of("no"), Map.of()))).get(0));
    assertEquals(List.of("SUCCESS", "SUCCESS", "FAILURE", "SUCCESS"), states(r), r.toString());
    Map<?, ?> request = (Map<?, ?>) r.get(0).get("result");
    assertEquals(r.get(0).get("id"), request.get("id"));
    assertEquals(node(), request.get("hostname"));
    assertEquals("retried 2", r.get(1).get("result"));
    assertEquals("IllegalStateException", r.get(2).get("exc_type"));
    List<Map<String, Object>> events = capture.events();
    assertEquals(
        List.of("task-received", "task-started", "task-succeeded"),
        typesOf(events, r.get(3).get("id")));
    assertEquals(
        List.of("task-received", "task-started", "task-failed"),
        typesOf(events, r.get(2).get("id")));
    assertTrue(typesOf(events, r.get(1).get("id")).contains("task-retried"), events.toString());
  }

  @Test
  @SuppressWarnings("unchecked")
  void javaAsyncTasksSendSubtasksWithoutBlockingAsCeleryLinksThem() throws Exception {
    startJava(new JsonObject().put("task_default_queue", queue));
    Map<String, Object> top =
        client.call(List.of(CeleryClient.call("jaio.spawn", List.of(2), Map.of()))).get(0);
    assertEquals("SUCCESS", top.get("state"), top.toString());
    String rootId = (String) top.get("id");
    Map<String, Object> seen = (Map<String, Object>) top.get("result");
    assertEquals(rootId, seen.get("root_id"), "the client made the task its own root");
    String childId = (String) seen.get("child");
    Map<String, Object> child = client.get(List.of(childId), 30).get(0);
    assertEquals("SUCCESS", child.get("state"), child.toString());
    Map<String, Object> childSeen = (Map<String, Object>) child.get("result");
    assertEquals(rootId, childSeen.get("parent_id"));
    assertEquals(rootId, childSeen.get("root_id"));
    String grandchildId = (String) childSeen.get("child");
    Map<String, Object> grandchild = client.get(List.of(grandchildId), 30).get(0);
    Map<String, Object> grandchildSeen = (Map<String, Object>) grandchild.get("result");
    assertEquals(childId, grandchildSeen.get("parent_id"), "the sender is the parent");
    assertEquals(rootId, grandchildSeen.get("root_id"), "the root stays the first task");
    assertEquals(rootId, stored(childId).get("parent_id"), "stored as Celery stores it");
    assertEquals(
        List.of(java.util.Arrays.asList(java.util.Arrays.asList(childId, null), null)),
        stored(rootId).get("children"),
        "what it sent is in its children");

    // a send the task does not wait for still ends before the result, and is in its children
    Map<String, Object> fired =
        client.call(List.of(CeleryClient.call("jaio.fire_and_forget", List.of(), Map.of()))).get(0);
    assertEquals("sent", fired.get("result"), fired.toString());
    List<Object> children = (List<Object>) stored((String) fired.get("id")).get("children");
    assertEquals(1, children.size(), children.toString());
    String sentId = (String) ((List<Object>) ((List<Object>) children.get(0)).get(0)).get(0);
    assertEquals("SUCCESS", client.get(List.of(sentId), 30).get(0).get("state"));

    // the blocking form is refused on the event loop, and says what to use instead
    Map<String, Object> refused =
        client.call(List.of(CeleryClient.call("jaio.blocking_delay", List.of(), Map.of()))).get(0);
    assertEquals("FAILURE", refused.get("state"), refused.toString());
    assertTrue(
        String.valueOf(refused.get("exc_message")).contains("delayStage"), refused.toString());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> stored(String id) throws Exception {
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      Response doc = redis.send("GET", "celery-task-meta-" + id);
      return (Map<String, Object>) Json.parse(doc.toBytes());
    }
  }

  private static List<Object> typesOf(List<Map<String, Object>> events, Object id) {
    return events.stream().filter(e -> id.equals(e.get("uuid"))).map(e -> e.get("type")).toList();
  }

  @Test
  void javaAsyncSoftLimitHardLimitAndTerminate() throws Exception {
    startJava(new JsonObject().put("async_concurrency", 1));
    List<String> ids =
        send(
            List.of(
                call("jaio.soft", List.of(), Map.of("soft_time_limit", 0.3)),
                call("jaio.forever", List.of(), Map.of("time_limit", 0.3))));
    List<Map<String, Object>> r = client.get(ids, 30);
    assertEquals("stopped: SoftTimeLimitExceeded", r.get(0).get("result"), r.toString());
    assertEquals("FAILURE", r.get(1).get("state"));
    assertEquals("TimeLimitExceeded", r.get(1).get("exc_type"));
    assertEquals("TimeLimitExceeded", AsyncTestTasks.CANCELLED.get(ids.get(1)));
    // the abandoned body does not hold the one async slot: the next task runs, and is terminated
    String forever = send(List.of(call("jaio.forever", List.of(), Map.of()))).get(0);
    awaitActive("async", 1);
    terminate(forever);
    assertEquals(List.of("REVOKED"), states(client.get(List.of(forever), 30)));
    assertEquals("terminated", AsyncTestTasks.CANCELLED.get(forever));
  }

  @Test
  void javaAsyncTasksInFlightAreBoundedByAsyncConcurrencyAndListedByInspectActive()
      throws Exception {
    String gate = "java-" + queue;
    startJava(new JsonObject().put("async_concurrency", 100));
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < 130; i++) {
      calls.add(CeleryClient.call("jaio.gate", List.of(gate), Map.of()));
    }
    Set<String> ids = new HashSet<>(send(calls));
    awaitActive("async", 100);
    List<Map<String, Object>> active = inspect("active");
    assertEquals(100, active.size(), "one pool thread, 100 async tasks waiting at once");
    active.forEach(
        a ->
            assertTrue(
                ids.contains(a.get("id")) && "jaio.gate".equals(a.get("type")), a.toString()));
    assertEquals(30, inspect("reserved").size());
    AsyncTestTasks.open(gate);
    List<Map<String, Object>> r = client.get(new ArrayList<>(ids), 60);
    assertTrue(r.stream().allMatch(x -> "open".equals(x.get("result"))), r.toString());
  }

  // --- Python ---

  private List<Map<String, Object>> log() throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      for (Response e : redis.send("LRANGE", logKey, 0, -1)) {
        out.add(
            Json.MAPPER.readValue(
                e.toString(),
                Json.MAPPER
                    .getTypeFactory()
                    .constructMapType(Map.class, String.class, Object.class)));
      }
    }
    return out;
  }

  private List<String> eventsOf(Object id) throws Exception {
    return log().stream()
        .filter(s -> id.equals(s.get("id")))
        .map(s -> s.get("event") + (s.get("state") == null ? "" : " " + s.get("state")))
        .toList();
  }

  /** One part of the pool's stats: {@code async}, {@code child_async} or {@code process}. */
  private JsonObject poolPart(String part) throws Exception {
    io.celerity.types.PoolStats s = worker.poolStats();
    return switch (part) {
      case "async" -> s.async();
      case "child_async" -> s.childAsync();
      case "process" -> s.process();
      default -> throw new IllegalArgumentException(part);
    };
  }

  private Set<Long> childPids() throws Exception {
    Set<Long> pids = new HashSet<>();
    poolPart("process")
        .getJsonArray("processes")
        .forEach(o -> pids.add(((JsonObject) o).getLong("pid")));
    return pids;
  }

  @Test
  void pythonAsyncDefTasksRunThroughCelerysTracerNextToSyncOnes() throws Exception {
    // the receiver stops at the first task-failed: the failing call is made once the others are
    // done
    CeleryControl.EventCapture capture =
        new CeleryControl(Brokers.AMQP_URL).events(node(), 60, "task-failed");
    startPython(1, 10, new JsonObject().put("task_events", true));
    List<Map<String, Object>> r =
        client.call(
            List.of(
                CeleryClient.call("pyaio.add", List.of(1, 2), Map.of()),
                CeleryClient.call("pyaio.aadd", List.of(3, 4), Map.of()),
                CeleryClient.call("pyaio.request", List.of(), Map.of()),
                CeleryClient.call("pyaio.retrying", List.of(), Map.of()),
                CeleryClient.call("pyaio.replaced", List.of(5), Map.of())));
    assertEquals(
        List.of("SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS"), states(r), r.toString());
    assertEquals(3, r.get(0).get("result"));
    assertEquals(7, r.get(1).get("result"));
    Map<?, ?> request = (Map<?, ?>) r.get(2).get("result");
    assertEquals(
        r.get(2).get("id"), request.get("id"), "self.request inside the coroutine is the task's");
    assertEquals("retried 2", r.get(3).get("result"));
    assertEquals(105, r.get(4).get("result"));
    assertEquals(List.of("task_prerun", "task_postrun SUCCESS"), eventsOf(r.get(1).get("id")));
    // three runs: two raised Retry from inside the coroutine, the third succeeded. The retried copy
    // may start in another coroutine slot before the run that sent it reaches its postrun (as in
    // Celery with concurrency > 1), so the runs are counted, not interleaved.
    List<String> runs = eventsOf(r.get(3).get("id"));
    assertEquals(
        List.of("task_postrun RETRY", "task_postrun RETRY", "task_postrun SUCCESS"),
        runs.stream().filter(e -> e.startsWith("task_postrun")).toList(),
        runs.toString());
    assertEquals(3, runs.stream().filter("task_prerun"::equals).count(), runs.toString());
    assertEquals("task_prerun", runs.get(0), runs.toString());
    assertEquals(
        "FAILURE",
        client
            .call(List.of(CeleryClient.call("pyaio.aadd", List.of(1), Map.of())))
            .get(0)
            .get("state"));
    List<Map<String, Object>> events = capture.events();
    assertEquals(
        List.of("task-received", "task-started", "task-succeeded"),
        typesOf(events, r.get(1).get("id")));
    assertEquals(
        "7",
        events.stream()
            .filter(
                e ->
                    r.get(1).get("id").equals(e.get("uuid"))
                        && "task-succeeded".equals(e.get("type")))
            .findFirst()
            .orElseThrow()
            .get("result"),
        "the tracer's repr of the coroutine's value");
  }

  /**
   * {@code child_async_loop}: {@code auto} (the default) runs coroutines on uvloop when the child's
   * Python has it (scripts/setup-services.sh installs Debian's python3-uvloop), {@code asyncio} on
   * the standard library's loop, and sync tasks next to them are untouched either way.
   */
  @ParameterizedTest
  @CsvSource({"auto, uvloop.Loop", "asyncio, asyncio.unix_events._UnixSelectorEventLoop"})
  void pythonAsyncLoopIsChosenByChildAsyncLoop(String setting, String loopClass) throws Exception {
    startPython(1, 10, new JsonObject().put("child_async_loop", setting));
    List<Map<String, Object>> r =
        client.call(
            List.of(
                CeleryClient.call("pyaio.loop", List.of(), Map.of()),
                CeleryClient.call("pyaio.add", List.of(1, 2), Map.of())));
    assertEquals(List.of("SUCCESS", "SUCCESS"), states(r), r.toString());
    assertEquals(loopClass, r.get(0).get("result"));
    assertEquals(3, r.get(1).get("result"));
  }

  /**
   * A coroutine's state its child cannot store (the result backend refuses connections) is not
   * acked as stored: counted in results_lost, as a synchronous task's. Once the backend is back,
   * the child's stores (one pipeline for its coroutines) work again.
   */
  @Test
  void pythonAsyncStateTheChildCannotStoreIsCountedLostAndStoresResumeAfterwards()
      throws Exception {
    try (TcpProxy proxy = new TcpProxy(vertx, "127.0.0.1", 6379)) {
      startPython(
          1,
          10,
          new JsonObject().put("result_backend", "redis://127.0.0.1:" + proxy.port() + "/9"));
      proxy.cut(true);
      client.send(List.of(CeleryClient.call("pyaio.aadd", List.of(2, 3), Map.of())));
      Polling.until(() -> worker.resultStats().resultsLost() == 1, 30_000);
      proxy.accept();
      List<Map<String, Object>> r =
          client.call(
              List.of(
                  CeleryClient.call("pyaio.aadd", List.of(3, 4), Map.of()),
                  CeleryClient.call("pyaio.aadd", List.of(5, 6), Map.of())));
      assertEquals(7, r.get(0).get("result"), "stored once the backend is back: " + r);
      assertEquals(11, r.get(1).get("result"), "stored once the backend is back: " + r);
      assertEquals(1L, worker.resultStats().resultsLost());
    }
  }

  @Test
  void pythonSoftLimitHardLimitAndTerminateCancelOneCoroutineNotTheChild() throws Exception {
    startPython(1, 10, new JsonObject());
    Set<Long> pids = childPids();
    List<String> ids =
        send(
            List.of(
                call("pyaio.wait", List.of(1.5), Map.of()),
                call("pyaio.soft", List.of(30), Map.of("soft_time_limit", 0.3)),
                call("pyaio.forever", List.of(), Map.of("time_limit", 0.5))));
    List<Map<String, Object>> r = client.get(ids, 30);
    assertEquals(
        "soft caught",
        r.get(1).get("result"),
        "SoftTimeLimitExceeded raised inside the coroutine: " + r);
    assertEquals("FAILURE", r.get(2).get("state"));
    assertEquals("TimeLimitExceeded", r.get(2).get("exc_type"));
    assertEquals(
        1.5,
        ((Number) r.get(0).get("result")).doubleValue(),
        "the other coroutine of the child went on");
    String forever = send(List.of(call("pyaio.forever", List.of(), Map.of()))).get(0);
    awaitActive("child_async", 1);
    terminate(forever);
    assertEquals(List.of("REVOKED"), states(client.get(List.of(forever), 30)));
    Polling.until(() -> eventsOf(forever).contains("cancelled"), 10_000);
    assertTrue(eventsOf(ids.get(2)).contains("cancelled"), eventsOf(ids.get(2)).toString());
    assertEquals(pids, childPids(), "no child was killed");
  }

  @Test
  void pythonCoroutinesInFlightAreDispatchedByFreeCapacityAndListedByInspectActive()
      throws Exception {
    startPython(2, 50, new JsonObject());
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      calls.add(CeleryClient.call("pyaio.gate", List.of(gateKey), Map.of()));
    }
    Set<String> ids = new HashSet<>(send(calls));
    awaitActive("child_async", 100);
    List<Map<String, Object>> active = inspect("active");
    assertEquals(100, active.size(), "two children, 50 coroutines each, at once");
    active.forEach(a -> assertTrue(ids.contains(a.get("id")), a.toString()));
    JsonArray processes = poolPart("process").getJsonArray("processes");
    processes.forEach(
        p -> assertEquals(50, ((JsonObject) p).getInteger("coroutines"), processes.encode()));
    // the last deliveries may still be on their way from the broker
    Polling.until(() -> inspect("reserved").size() == 20, 30_000);
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      redis.send("SET", gateKey, "1");
    }
    List<Map<String, Object>> r = client.get(new ArrayList<>(ids), 90);
    assertTrue(r.stream().allMatch(x -> "open".equals(x.get("result"))), r.toString());
  }

  @Test
  void pythonCoroutineBlockingTheChildsLoopIsReportedByName() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger("celery.pool.process");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      startPython(1, 10, new JsonObject().put("async_blocked_threshold", 0.3));
      List<Map<String, Object>> r =
          client.call(List.of(CeleryClient.call("pyaio.block", List.of(1.5), Map.of())));
      assertEquals("blocked", r.get(0).get("result"));
      String id = (String) r.get(0).get("id");
      List<String> errors =
          appender.list.stream()
              .filter(e -> e.getLevel().toString().equals("ERROR"))
              .map(ILoggingEvent::getFormattedMessage)
              .filter(m -> m.contains("blocked"))
              .toList();
      assertEquals(1, errors.size(), errors.toString());
      assertTrue(
          errors.get(0).contains("pyaio.block[" + id + "]") && errors.get(0).contains("time.sleep"),
          errors.get(0));
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void aGivenUpCoroutineThatStillBlocksTheLoopTakesItsChildDown() throws Exception {
    startPython(1, 10, new JsonObject().put("async_blocked_threshold", 0.3));
    Set<Long> pids = childPids();
    List<String> ids =
        send(
            List.of(
                call("pyaio.wait", List.of(30), Map.of()),
                call("pyaio.block", List.of(20), Map.of("time_limit", 1.0))));
    List<Map<String, Object>> r = client.get(ids, 30);
    assertEquals("TimeLimitExceeded", r.get(1).get("exc_type"), r.toString());
    // its loop still blocked after the limit: the child exits, its other coroutine is lost as in a
    // killed prefork child
    assertEquals("WorkerLostError", r.get(0).get("exc_type"), r.toString());
    Polling.until(() -> childPids().size() == 1 && !childPids().equals(pids), 30_000);
    assertEquals(
        List.of(7),
        client.call(List.of(CeleryClient.call("pyaio.aadd", List.of(3, 4), Map.of()))).stream()
            .map(x -> x.get("result"))
            .toList(),
        "a new child runs the next tasks");
  }
}

package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.Addresses;
import io.celerity.protocol.Json;
import io.celerity.support.Polling;
import io.celerity.types.ResultStats;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Response;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Python tasks in {@code -P process} children run through Celery's own tracer, as in Celery's
 * prefork children: signals and handlers fire in the child, {@code replace}, {@code Reject}, {@code
 * Ignore}, {@code autoretry_for}, result preparation and {@code self.request} are Celery's; the app
 * is found as {@code celery -A pyproj} finds it (src/test/python/pyproj/celery.py, tasks by {@code
 * include}). Where it matters the same calls also go to Celery's own prefork worker, and the two
 * are compared.
 */
class ChildTracerTest extends AmqpTestBase {

  private String signalKey;

  @Override
  protected String queuePrefix() {
    return "pytrace";
  }

  @AfterEach
  void dropSignalLog() throws Exception {
    if (signalKey != null) {
      try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
        redis.send("DEL", signalKey);
      }
    }
  }

  private String childCommand() {
    signalKey = "pytrace-signals-" + queue;
    return "env PYPROJ_LOG="
        + signalKey
        + " PYPROJ_QUEUE="
        + queue
        + " "
        + CeleryClient.PYTHON
        + " -m celerity_child -p src/test/python pyproj";
  }

  private void startWorker(int concurrency) throws Exception {
    startWorker(concurrency, new JsonObject());
  }

  private void startWorker(int concurrency, JsonObject more) throws Exception {
    startWorker(
        new JsonObject()
            .put("pool", "process")
            .put("concurrency", concurrency)
            .put("load_examples", false)
            .put("child_command", childCommand())
            .mergeIn(more));
  }

  /** What the signal handlers and task handlers recorded, in order. */
  private List<Map<String, Object>> signals() throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      Response r = redis.send("LRANGE", signalKey, 0, -1);
      for (Response e : r) {
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

  private List<String> eventsOf(List<Map<String, Object>> signals, Object id) {
    return signals.stream()
        .filter(s -> id.equals(s.get("id")))
        .map(s -> String.valueOf(s.get("event")))
        .toList();
  }

  private static Map<String, Object> call(
      String task, List<?> args, Map<String, ?> kwargs, Map<String, ?> options, double timeout) {
    return Map.of(
        "task", task, "args", args, "kwargs", kwargs, "options", options, "timeout", timeout);
  }

  private static final List<String> SUCCESS_SEQUENCE =
      List.of(
          "task_prerun",
          "before_start",
          "on_success",
          "task_success",
          "after_return",
          "task_postrun");
  private static final List<String> FAILURE_SEQUENCE =
      List.of(
          "task_prerun",
          "before_start",
          "on_failure",
          "task_failure",
          "after_return",
          "task_postrun");

  @Test
  void signalsAndHandlersFireInTheChildAsInCeleryPrefork() throws Exception {
    startWorker(2);
    List<Map<String, Object>> r =
        client.call(
            List.of(
                CeleryClient.call("pyproj.handled", List.of(false), Map.of()),
                CeleryClient.call("pyproj.handled", List.of(true), Map.of()),
                CeleryClient.call("pyproj.autoretry", List.of(2), Map.of())));
    assertEquals("handled ok", r.get(0).get("result"), r.toString());
    assertEquals("ValueError", r.get(1).get("exc_type"));
    assertEquals("ok after 2", r.get(2).get("result"), r.toString());
    List<Map<String, Object>> signals = signals();
    long jvm = ProcessHandle.current().pid();
    Set<Object> childPids = new java.util.HashSet<>();
    worker
        .poolStats()
        .process()
        .getJsonArray("processes")
        .forEach(o -> childPids.add(((JsonObject) o).getLong("pid").intValue()));
    assertEquals(2, childPids.size());
    for (Object pid : childPids) {
      List<String> perChild =
          signals.stream()
              .filter(s -> pid.equals(s.get("pid")) && s.get("id") == null)
              .map(s -> String.valueOf(s.get("event")))
              .toList();
      assertEquals(
          List.of("worker_init", "worker_process_init"), perChild, "once per child: " + signals);
    }
    signals.forEach(
        s ->
            assertTrue(
                childPids.contains(s.get("pid")) && !s.get("pid").equals((int) jvm), s.toString()));
    assertEquals(SUCCESS_SEQUENCE, eventsOf(signals, r.get(0).get("id")));
    assertEquals(FAILURE_SEQUENCE, eventsOf(signals, r.get(1).get("id")));
    // three runs (the copies may start in the other child before the previous run's postrun): two
    // retries with their handlers, one success; after_return is not called for RETRY (Celery's
    // IGNORE_STATES)
    Map<String, Long> retried = new java.util.TreeMap<>();
    eventsOf(signals, r.get(2).get("id")).forEach(e -> retried.merge(e, 1L, Long::sum));
    assertEquals(
        Map.of(
            "task_prerun",
            3L,
            "before_start",
            3L,
            "on_retry",
            2L,
            "task_retry",
            2L,
            "on_success",
            1L,
            "task_success",
            1L,
            "after_return",
            1L,
            "task_postrun",
            3L),
        retried);
  }

  @Test
  void workerProcessShutdownFiresWhenAChildIsRecycledOrTheWorkerStops() throws Exception {
    startWorker(
        new JsonObject()
            .put("pool", "process")
            .put("concurrency", 1)
            .put("load_examples", false)
            .put("max_tasks_per_child", 1)
            .put("child_command", childCommand()));
    List<Map<String, Object>> r =
        client.call(List.of(CeleryClient.call("pyproj.pid", List.of(), Map.of())));
    Object first = r.get(0).get("result");
    Polling.until(
        () ->
            signals().stream()
                .anyMatch(
                    s ->
                        "worker_process_shutdown".equals(s.get("event"))
                            && first.equals(s.get("pid"))
                            && Integer.valueOf(0).equals(s.get("exitcode"))),
        20_000);
    // the replacement and the warm spare are up, the recycled child is gone
    Polling.until(
        () ->
            worker.poolStats().process().getJsonArray("processes").stream()
                .map(o -> (JsonObject) o)
                .allMatch(c -> c.getBoolean("ready") && !c.getBoolean("retiring")),
        20_000);
    Set<Object> alive = new java.util.HashSet<>();
    worker
        .poolStats()
        .process()
        .getJsonArray("processes")
        .forEach(o -> alive.add(((JsonObject) o).getLong("pid").intValue()));
    assertTrue(!alive.isEmpty() && !alive.contains(first), alive.toString());
    worker.close(); // warm shutdown: the idle children exit by themselves, as billiard's do
    worker = null;
    Polling.until(
        () -> {
          Set<Object> down = new java.util.HashSet<>();
          signals().stream()
              .filter(s -> "worker_process_shutdown".equals(s.get("event")))
              .forEach(s -> down.add(s.get("pid")));
          return down.containsAll(alive);
        },
        20_000);
  }

  @Test
  void theWorkerSendsTheEventsOfWhatTheChildTraced() throws Exception {
    CeleryControl.EventCapture capture =
        new CeleryControl(Brokers.AMQP_URL)
            .events(node(), 60, "task-succeeded", "task-rejected", "task-failed", "task-retried");
    startWorker(
        new JsonObject()
            .put("pool", "process")
            .put("concurrency", 1)
            .put("load_examples", false)
            .put("task_events", true)
            .put("child_command", childCommand()));
    List<Map<String, Object>> sent =
        client.send(
            List.of(
                CeleryClient.call("pyproj.add", List.of(2, 3), Map.of()),
                CeleryClient.call("pyproj.reject", List.of(false), Map.of()),
                CeleryClient.call("pyproj.handled", List.of(true), Map.of()),
                CeleryClient.call("pyproj.autoretry", List.of(1), Map.of())));
    List<Map<String, Object>> events = capture.events();
    Map<String, Object> succeeded = event(events, "task-succeeded", sent.get(0).get("id"));
    assertEquals("5", succeeded.get("result"), "the tracer's repr of the value");
    assertTrue(((Number) succeeded.get("runtime")).doubleValue() >= 0);
    assertEquals(
        Boolean.FALSE, event(events, "task-rejected", sent.get(1).get("id")).get("requeue"));
    assertTrue(
        events.stream()
            .noneMatch(
                e ->
                    sent.get(1).get("id").equals(e.get("uuid"))
                        && "task-failed".equals(e.get("type"))),
        "Reject is not a failure: " + events);
    assertEquals(
        "ValueError('handled failure')",
        event(events, "task-failed", sent.get(2).get("id")).get("exception"));
    assertEquals(
        "KeyError('not yet')",
        event(events, "task-retried", sent.get(3).get("id")).get("exception"));
  }

  private static Map<String, Object> event(
      List<Map<String, Object>> events, String type, Object uuid) {
    return events.stream()
        .filter(e -> type.equals(e.get("type")) && uuid.equals(e.get("uuid")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type + " for " + uuid + " in " + events));
  }

  @Test
  void sameSignalsAndHandlersAsCelerysOwnWorker() throws Exception {
    startWorker(1);
    List<Map<String, Object>> calls =
        List.of(
            CeleryClient.call("pyproj.handled", List.of(false), Map.of()),
            CeleryClient.call("pyproj.handled", List.of(true), Map.of()),
            CeleryClient.call("pyproj.autoretry", List.of(1), Map.of()),
            CeleryClient.call("pyproj.replaced", List.of(1), Map.of()));
    List<Map<String, Object>> ours = client.call(calls);
    List<List<String>> ourEvents = new ArrayList<>();
    List<Map<String, Object>> ourSignals = signals();
    ours.forEach(o -> ourEvents.add(eventsOf(ourSignals, o.get("id"))));
    worker.close();
    worker = null;
    dropSignalLog();
    String pyQueue = queue + "-celery";
    try (PythonWorker py =
        PythonWorker.start(
            "pyproj",
            "prefork",
            Brokers.AMQP_URL,
            Brokers.REDIS_URL,
            pyQueue,
            Map.of("PYPROJ_LOG", signalKey, "PYPROJ_QUEUE", pyQueue))) {
      List<Map<String, Object>> theirs =
          new CeleryClient(Brokers.AMQP_URL, Brokers.REDIS_URL, pyQueue).call(calls);
      List<Map<String, Object>> theirSignals = signals();
      for (int i = 0; i < calls.size(); i++) {
        assertEquals(theirs.get(i).get("state"), ours.get(i).get("state"), calls.get(i).toString());
        assertEquals(
            theirs.get(i).get("result"), ours.get(i).get("result"), calls.get(i).toString());
        assertEquals(
            eventsOf(theirSignals, theirs.get(i).get("id")),
            ourEvents.get(i),
            calls.get(i).toString());
      }
    } finally {
      try (Amqp amqp = new Amqp()) {
        amqp.delete(pyQueue);
      }
    }
  }

  @Test
  void replaceRejectIgnoreAndAutoretryAreCelerys() throws Exception {
    startWorker(2);
    List<Map<String, Object>> r =
        client.call(
            List.of(
                CeleryClient.call("pyproj.replaced", List.of(5), Map.of()),
                CeleryClient.call("pyproj.reject", List.of(true), Map.of()),
                CeleryClient.call("pyproj.autoretry", List.of(3), Map.of()),
                call("pyproj.reject", List.of(false), Map.of(), Map.of(), 1),
                call("pyproj.ignore", List.of(), Map.of(), Map.of(), 1)));
    assertEquals(
        105, r.get(0).get("result"), "the replacement's result under the original id: " + r);
    assertEquals(
        "redelivered=True", r.get(1).get("result"), "Reject(requeue=True) sent it back once: " + r);
    assertEquals("ok after 3", r.get(2).get("result"), r.toString());
    assertEquals(
        Boolean.TRUE, r.get(3).get("timed_out"), "Reject(requeue=False) stores nothing: " + r);
    assertEquals(Boolean.TRUE, r.get(4).get("timed_out"), "Ignore stores nothing: " + r);
    List<Map<String, Object>> signals = signals();
    // replaced (IGNORED: no handlers, no success), then the replacement ran under the same id
    assertEquals(
        List.of("task_postrun", "task_postrun", "task_prerun", "task_prerun", "task_success"),
        eventsOf(signals, r.get(0).get("id")).stream().sorted().toList());
    assertEquals(
        2, eventsOf(signals, r.get(1).get("id")).stream().filter("task_prerun"::equals).count());
    assertEquals(
        List.of("task_prerun", "task_postrun"),
        eventsOf(signals, r.get(3).get("id")),
        "rejected, not requeued");
    ResultStats writes = worker.resultStats();
    assertEquals(3, writes.succeeded(), writes.toString());
    assertEquals(3, writes.retried(), writes.toString());
    assertEquals(0, writes.failed(), writes.toString());
    // every message was settled: after the worker is gone nothing comes back to the queue (an
    // unsettled
    // delivery would be requeued), so the rejected message is gone for good
    worker.close();
    worker = null;
    try (Amqp amqp = new Amqp()) {
      assertEquals(0, amqp.ready(queue));
    }
  }

  /** What pyproj.reads_own_state's after_return found stored for its own id. */
  private List<Object> storedAtAfterReturn(Object id) throws Exception {
    return signals().stream()
        .filter(s -> id.equals(s.get("id")) && "after_return_state".equals(s.get("event")))
        .map(s -> s.get("stored"))
        .toList();
  }

  @Test
  void theFinalStateIsCelerysOwnDocumentWrittenByTheWorker() throws Exception {
    startWorker(1);
    Map<String, Object> r =
        client
            .call(List.of(CeleryClient.call("pyproj.reads_own_state", List.of(), Map.of())))
            .get(0);
    assertEquals("ok", r.get("result"), r.toString());
    String raw;
    try (RedisCli redis = new RedisCli(resultsUrl())) {
      raw = redis.send("GET", "celery-task-meta-" + r.get("id")).toString();
    }
    assertTrue(
        raw.startsWith("{\"status\": \"SUCCESS\", \"result\": \"ok\", \"traceback\": null"),
        "Celery's encoding (json.dumps separators), not the worker's: " + raw);
    assertEquals(
        List.of("PENDING"),
        storedAtAfterReturn(r.get("id")),
        "handed over to the worker: not yet stored when the task's handlers run");
    // over 1 MiB the child writes the document itself
    Map<String, Object> big =
        client.call(List.of(CeleryClient.call("pyproj.big", List.of(3 << 20), Map.of()))).get(0);
    assertEquals(3 << 20, String.valueOf(big.get("result")).length(), big.get("state") + "");
  }

  @Test
  void withoutChildDeferStoresTheChildWritesItsStateAsAPreforkChildDoes() throws Exception {
    startWorker(1, new JsonObject().put("child_defer_stores", false));
    Map<String, Object> r =
        client
            .call(List.of(CeleryClient.call("pyproj.reads_own_state", List.of(), Map.of())))
            .get(0);
    assertEquals("ok", r.get("result"), r.toString());
    assertEquals(List.of("SUCCESS"), storedAtAfterReturn(r.get("id")));
  }

  @Test
  @SuppressWarnings("unchecked")
  void returnValuesArePreparedByCelerysBackendAndEncodeErrorKeepsTheChild() throws Exception {
    startWorker(1);
    List<Map<String, Object>> r =
        client.call(
            List.of(
                CeleryClient.call("pyproj.pid", List.of(), Map.of()),
                CeleryClient.call("pyproj.returns_async", List.of(), Map.of()),
                CeleryClient.call("pyproj.returns_group", List.of(), Map.of()),
                CeleryClient.call("pyproj.unencodable", List.of(), Map.of()),
                CeleryClient.call("pyproj.pid", List.of(), Map.of())));
    assertEquals(
        Arrays.asList(Arrays.asList("4e4e1c1e-0000-0000-0000-000000000001", null), null),
        ((Map<String, Object>) r.get(1).get("raw_meta")).get("result"),
        "AsyncResult.as_tuple(): " + r.get(1));
    assertEquals(
        Arrays.asList(
            Arrays.asList("4e4e1c1e-0000-0000-0000-0000000000g1", null),
            List.of(
                Arrays.asList(Arrays.asList("4e4e1c1e-0000-0000-0000-000000000002", null), null))),
        ((Map<String, Object>) r.get(2).get("raw_meta")).get("result"),
        "GroupResult.as_tuple(): " + r.get(2));
    assertEquals("FAILURE", r.get(3).get("state"));
    assertEquals("EncodeError", r.get(3).get("exc_type"));
    assertEquals("kombu.exceptions", r.get(3).get("exc_module"));
    assertEquals(r.get(0).get("result"), r.get(4).get("result"), "the child lived on: " + r);
    assertEquals(1L, worker.poolStats().process().getLong("spawned"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void requestIsFilledAsCelerysWorkerFillsIt() throws Exception {
    startWorker(1);
    Map<String, Object> options =
        Map.of(
            "priority",
            3,
            "time_limit",
            30,
            "soft_time_limit",
            20,
            "expires",
            600,
            "countdown",
            0.1);
    Map<String, Object> theCall =
        call("pyproj.request", List.of(1, "two"), Map.of("k", 3), options, 30);
    Map<String, Object> ours =
        (Map<String, Object>) client.call(List.of(theCall)).get(0).get("result");
    worker.close();
    worker = null;
    String pyQueue = queue + "-celery";
    Map<String, Object> theirs;
    try (PythonWorker py =
        PythonWorker.start(
            "pyproj",
            "prefork",
            Brokers.AMQP_URL,
            Brokers.REDIS_URL,
            pyQueue,
            Map.of("PYPROJ_QUEUE", pyQueue))) {
      theirs =
          (Map<String, Object>)
              new CeleryClient(Brokers.AMQP_URL, Brokers.REDIS_URL, pyQueue)
                  .call(List.of(theCall))
                  .get(0)
                  .get("result");
    } finally {
      try (Amqp amqp = new Amqp()) {
        amqp.delete(pyQueue);
      }
    }
    assertNotNull(ours);
    assertNotNull(theirs);
    assertEquals(theirs.keySet(), ours.keySet());
    // per call or per worker by nature: ids, reply queue, origin, times, node name, queue name
    Set<String> differ =
        Set.of(
            "id", "reply_to", "correlation_id", "root_id", "origin", "eta", "expires", "hostname");
    for (String k : theirs.keySet()) {
      if (!differ.contains(k) && !k.equals("delivery_info") && !k.equals("properties")) {
        assertEquals(theirs.get(k), ours.get(k), k);
      }
    }
    for (String k : differ) {
      assertEquals(
          theirs.get(k) == null,
          ours.get(k) == null,
          k + ": ours " + ours.get(k) + ", theirs " + theirs.get(k));
    }
    assertEquals(ours.get("id"), ours.get("correlation_id"));
    assertEquals(ours.get("id"), ours.get("root_id"));
    assertEquals(Boolean.FALSE, ours.get("is_eager"));
    assertEquals(List.of(30, 20), ours.get("timelimit"));
    assertEquals(
        Map.of("exchange", "", "routing_key", queue, "priority", 3, "redelivered", false),
        ours.get("delivery_info"));
    Map<String, Object> theirDelivery = (Map<String, Object>) theirs.get("delivery_info");
    assertEquals(
        Map.of("exchange", "", "routing_key", pyQueue, "priority", 3, "redelivered", false),
        theirDelivery);
    Map<String, Object> props = (Map<String, Object>) ours.get("properties");
    assertEquals(ours.get("reply_to"), props.get("reply_to"));
    assertEquals(ours.get("id"), props.get("correlation_id"));
    assertEquals(3, props.get("priority"));
    assertEquals("application/json", props.get("content_type"));
  }

  @Test
  void findsTheAppAsCeleryDashADoesAndFailsLikeIt() throws Exception {
    // pyproj is a package whose app lives in pyproj/celery.py and whose tasks come from `include`
    startWorker(1);
    List<Map<String, Object>> r =
        client.call(
            List.of(
                CeleryClient.call("pyproj.add", List.of(3, 4), Map.of()),
                CeleryClient.call("pyproj.imported", List.of(), Map.of()),
                CeleryClient.call("pyproj.discovered", List.of(), Map.of()),
                CeleryClient.call("celery.accumulate", List.of(1, 2, 3), Map.of())));
    assertEquals(7, r.get(0).get("result"), "include: " + r);
    assertEquals("found by imports", r.get(1).get("result"), "imports: " + r);
    assertEquals(
        "found by autodiscover_tasks", r.get(2).get("result"), "autodiscover_tasks(): " + r);
    assertEquals(
        List.of(1, 2, 3), r.get(3).get("result"), "Celery's built-ins run in the child too: " + r);
    JsonObject conf = worker.<JsonObject>ask(Addresses.POOL_APP_CONF);
    assertEquals(queue, conf.getString("task_default_queue"), "inspect conf detail: " + conf);
    assertEquals(List.of("pyproj.tasks"), conf.getJsonArray("include").getList());
    worker.close();
    worker = null;
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () ->
                startWorker(
                    new JsonObject()
                        .put("pool", "process")
                        .put("concurrency", 1)
                        .put("load_examples", false)
                        .put("child_start_timeout", 30)
                        .put(
                            "child_command",
                            CeleryClient.PYTHON
                                + " -m celerity_child -p src/test/python no_such_proj")));
    assertTrue(
        String.valueOf(e.getCause().getMessage())
            .contains("exited (exitcode 2) before it was ready"),
        e.toString());
  }

  @Test
  void strangersOnTheChildPortCannotMakeTheWorkerBuffer() throws Exception {
    startWorker(1);
    int port = worker.poolStats().process().getInteger("port");
    // a frame header announcing 64 MiB before any hello: closed at once
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(new byte[] {4, 0, 0, 0});
      out.flush();
      assertEquals(-1, s.getInputStream().read(), "closed by the worker");
    }
    // idle connections: at most a few are kept, and none past the handshake timeout
    List<Socket> idle = new ArrayList<>();
    try {
      for (int i = 0; i < 8; i++) {
        idle.add(new Socket("127.0.0.1", port));
      }
      Map<Socket, Integer> closed = new HashMap<>();
      for (Socket s : idle) {
        s.setSoTimeout(20_000);
        closed.put(s, s.getInputStream().read());
      }
      closed.values().forEach(v -> assertEquals(-1, v));
    } finally {
      for (Socket s : idle) {
        s.close();
      }
    }
    assertEquals(
        7,
        client
            .call(List.of(CeleryClient.call("pyproj.add", List.of(3, 4), Map.of())))
            .get(0)
            .get("result"));
  }

  /**
   * The child's backend cannot store the task's state (the result backend refuses connections):
   * Celery's tracer fails inside mark_as_done. With acks_late the worker requeues the message
   * instead of acking it, counts it in results_lost, and once the backend is back a redelivery
   * stores SUCCESS. The requeue waits for the backend (as a Java task's write would), so the task
   * does not run again and again during the outage.
   */
  @Test
  void withAcksLateAStateTheChildCannotStoreIsRequeuedAndStoredOnceTheBackendIsBack()
      throws Exception {
    try (TcpProxy proxy = new TcpProxy(vertx, "127.0.0.1", 6379)) {
      startWorkerBehind(proxy, true, false);
      proxy.cut(true);
      Object id =
          client
              .send(List.of(CeleryClient.call("pyproj.add", List.of(2, 3), Map.of())))
              .get(0)
              .get("id");
      Polling.until(() -> worker.resultStats().resultsLost() == 1, 30_000);
      // the worker keeps trying the backend (50 ms apart) and holds the message meanwhile: not
      // rerun
      long refused = proxy.refused();
      Polling.until(() -> proxy.refused() >= refused + 20, 30_000);
      assertEquals(List.of("task_prerun", "task_postrun"), eventsOf(signals(), id));
      proxy.accept();
      assertEquals(5, storedSuccess(id).getInteger("result"));
      // not acked but requeued: run once more, once the backend was back
      assertEquals(
          List.of("task_prerun", "task_postrun", "task_prerun", "task_success", "task_postrun"),
          eventsOf(signals(), id));
      assertEquals(1L, worker.resultStats().resultsLost());
      worker.close(); // the stored run was acked: nothing comes back to the queue
      worker = null;
      try (Amqp amqp = new Amqp()) {
        assertEquals(0, amqp.ready(queue));
      }
    }
  }

  /**
   * With child_defer_stores the child hands its SUCCESS over and the worker writes it: during an
   * outage the worker retries the write and holds the message; the task ran once, nothing is lost,
   * and the message is acked once the state is stored.
   */
  @Test
  void aHandedOverStateIsWrittenOnceTheBackendIsBackAndTheTaskRunsOnce() throws Exception {
    try (TcpProxy proxy = new TcpProxy(vertx, "127.0.0.1", 6379)) {
      startWorkerBehind(proxy, true, true);
      proxy.cut(true);
      Object id =
          client
              .send(List.of(CeleryClient.call("pyproj.add", List.of(2, 3), Map.of())))
              .get(0)
              .get("id");
      Polling.until(() -> eventsOf(signals(), id).contains("task_postrun"), 30_000);
      long refused = proxy.refused();
      Polling.until(() -> proxy.refused() >= refused + 20, 30_000); // the worker's write retries
      proxy.accept();
      assertEquals(5, storedSuccess(id).getInteger("result"));
      assertEquals(
          List.of("task_prerun", "task_success", "task_postrun"),
          eventsOf(signals(), id),
          "ran once");
      assertEquals(0L, worker.resultStats().resultsLost());
      worker.close(); // acked once stored: nothing comes back to the queue
      worker = null;
      try (Amqp amqp = new Amqp()) {
        assertEquals(0, amqp.ready(queue));
      }
    }
  }

  /**
   * Without acks_late the message was acked when the task started: the lost state is counted,
   * nothing runs again.
   */
  @Test
  void withoutAcksLateAStateTheChildCannotStoreIsCountedAndNotRunAgain() throws Exception {
    try (TcpProxy proxy = new TcpProxy(vertx, "127.0.0.1", 6379)) {
      startWorkerBehind(proxy, false, false);
      proxy.cut(true);
      Object id =
          client
              .send(List.of(CeleryClient.call("pyproj.add", List.of(2, 3), Map.of())))
              .get(0)
              .get("id");
      Polling.until(() -> worker.resultStats().resultsLost() == 1, 30_000);
      proxy.accept();
      assertEquals(
          7,
          client
              .call(List.of(CeleryClient.call("pyproj.add", List.of(3, 4), Map.of())))
              .get(0)
              .get("result"));
      assertEquals(
          List.of("task_prerun", "task_postrun"),
          eventsOf(signals(), id),
          "ran once, not requeued");
      assertEquals(1L, worker.resultStats().resultsLost());
    }
  }

  /** The SUCCESS document of {@code id} in Redis db 9, once there (deleted after reading). */
  private static JsonObject storedSuccess(Object id) throws Exception {
    String key = "celery-task-meta-" + id;
    try (RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      try {
        Polling.until(
            () -> {
              Response doc = redis.send("GET", key);
              return doc != null
                  && "SUCCESS".equals(new JsonObject(doc.toString()).getString("status"));
            },
            30_000);
        return new JsonObject(redis.send("GET", key).toString());
      } finally {
        redis.send("DEL", key);
      }
    }
  }

  /**
   * Results go through {@code proxy}; the worker's own retries (writes, the wait before a requeue)
   * outlast an outage.
   */
  private void startWorkerBehind(TcpProxy proxy, boolean acksLate, boolean deferStores)
      throws Exception {
    startWorker(
        new JsonObject()
            .put("child_defer_stores", deferStores)
            .put("pool", "process")
            .put("concurrency", 1)
            .put("load_examples", false)
            .put("acks_late", acksLate)
            .put("child_command", childCommand())
            .put("result_backend", "redis://127.0.0.1:" + proxy.port() + "/9")
            .put(
                "result_backend_transport_options",
                new JsonObject()
                    .put(
                        "retry_policy",
                        new JsonObject()
                            .put("max_retries", 100_000)
                            .put("interval_start", 0.05)
                            .put("interval_step", 0)
                            .put("interval_max", 0))));
  }

  @Test
  void aChildReplyThatCannotBeReadFailsItsTaskAndTheWorkerGoesOn() throws Exception {
    startWorker(
        new JsonObject()
            .put("pool", "process")
            .put("concurrency", 1)
            .put("load_examples", false)
            .put("child_command", CeleryClient.PYTHON + " src/test/python/bad_child.py"));
    List<Map<String, Object>> r =
        client.call(
            List.of(
                CeleryClient.call("bad.reply", List.of(), Map.of()),
                CeleryClient.call("bad.echo", List.of(1, 2), Map.of()),
                CeleryClient.call("bad.retry", List.of(), Map.of()),
                CeleryClient.call("bad.echo", List.of(3), Map.of())));
    for (int i : new int[] {0, 2}) {
      assertEquals("FAILURE", r.get(i).get("state"), r.toString());
      assertEquals("DecodeError", r.get(i).get("exc_type"));
      assertEquals("kombu.exceptions", r.get(i).get("exc_module"));
    }
    assertEquals(
        List.of(1, 2), r.get(1).get("result"), "a replacement child took the next task: " + r);
    assertEquals(List.of(3), r.get(3).get("result"), r.toString());
    Polling.until(() -> worker.poolStats().process().getLong("spawned") == 3, 20_000);
  }

  /**
   * Hostile replies (protocol v2): each settles its task (FAILURE stored), the child out of step is
   * replaced, and the worker goes on; a second reply for a finished task is only logged.
   */
  @Test
  void aChildOutOfStepHasItsTaskFailedAndIsReplaced() throws Exception {
    startWorker(
        new JsonObject()
            .put("pool", "process")
            .put("concurrency", 1)
            .put("load_examples", false)
            .put("child_command", CeleryClient.PYTHON + " src/test/python/bad_child.py"));
    long spawned = 1;
    for (String task :
        List.of("bad.garbage", "bad.unknown_job", "bad.huge", "bad.skipped", "bad.truncated")) {
      Map<String, Object> r =
          client.call(List.of(CeleryClient.call(task, List.of(), Map.of()))).get(0);
      assertEquals("FAILURE", r.get("state"), task + ": " + r);
      assertEquals("DecodeError", r.get("exc_type"), task + ": " + r);
      spawned++;
      long expected = spawned;
      Polling.until(() -> worker.poolStats().process().getLong("spawned") == expected, 20_000);
      assertEquals(
          List.of(task),
          client
              .call(List.of(CeleryClient.call("bad.echo", List.of(task), Map.of())))
              .get(0)
              .get("result"),
          "the replacement child runs the next task");
    }
    Map<String, Object> twice =
        client.call(List.of(CeleryClient.call("bad.twice", List.of(), Map.of()))).get(0);
    assertEquals("first", twice.get("result"), twice.toString());
    assertEquals(
        List.of(7),
        client
            .call(List.of(CeleryClient.call("bad.echo", List.of(7), Map.of())))
            .get(0)
            .get("result"));
    assertEquals(spawned, worker.poolStats().process().getLong("spawned"), "the child was kept");
    // A coroutine's child answering for a job not in flight: the child is replaced, the task lost.
    Map<String, Object> co =
        client.call(List.of(CeleryClient.call("bad.async", List.of(), Map.of()))).get(0);
    assertEquals("FAILURE", co.get("state"), co.toString());
    assertEquals("WorkerLostError", co.get("exc_type"), co.toString());
    assertEquals(
        List.of(8),
        client
            .call(List.of(CeleryClient.call("bad.echo", List.of(8), Map.of())))
            .get(0)
            .get("result"));
  }

  @Test
  void plainFunctionReturningWhatJsonCannotEncodeFailsWithEncodeError() throws Exception {
    startWorker(
        new JsonObject()
            .put("pool", "process")
            .put("concurrency", 1)
            .put("load_examples", false)
            .put(
                "child_command",
                CeleryClient.PYTHON
                    + " -m celerity_child -p src/test/python py_process_tasks plain_object plain_mul"));
    List<Map<String, Object>> r =
        client.call(
            List.of(
                CeleryClient.call("py_process_tasks.plain_object", List.of(), Map.of()),
                CeleryClient.call("py_process_tasks.plain_mul", List.of(6, 7), Map.of())));
    assertEquals("EncodeError", r.get(0).get("exc_type"), r.toString());
    assertEquals(42, r.get(1).get("result"));
    assertEquals(1L, worker.poolStats().process().getLong("spawned"), "the child lived on");
  }
}

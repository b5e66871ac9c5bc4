package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Canvas built by the real Python client (link, link_error, chains, groups, chords, built-in
 * celery.* tasks), executed by our worker alone, over RabbitMQ with the Redis result backend.
 */
class CanvasInteropTest extends AmqpTestBase {

  private CanvasClient canvas;

  @Override
  protected String queuePrefix() {
    return "canvas";
  }

  @BeforeEach
  void start() throws Exception {
    startWorker(new JsonObject().put("concurrency", 8).put("task_default_queue", queue));
    canvas = new CanvasClient(Brokers.AMQP_URL, Brokers.REDIS_URL, queue);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  @Test
  void linkCallbackGetsTheResultAndIsListedAsChild() throws Exception {
    Map<String, Object> r = canvas.run("link");
    assertEquals(4, r.get("ok"), r.toString());
    assertEquals(
        1, ((List<?>) r.get("children")).size(), "the callback is a child of the task: " + r);
    assertEquals(40, map(r.get("callback")).get("ok"), r.toString());
  }

  @Test
  void linkErrorIsSentWithTheFailedTaskId() throws Exception {
    Map<String, Object> r = canvas.run("link_error");
    assertEquals("ValueError", map(r.get("error")).get("type"), r.toString());
    assertEquals(
        r.get("task_id"),
        map(r.get("errback")).get("ok"),
        "old-style errback gets [task_id]: " + r);
  }

  @Test
  void chainsRunInOrderWithImmutableAndNestedSteps() throws Exception {
    assertEquals(60, canvas.run("chain").get("ok"));
    assertEquals(
        20, canvas.run("chain_immutable").get("ok"), "add.si(5, 5) ignores the previous result");
    assertEquals(16, canvas.run("chain_nested").get("ok"), "((1+1)+2)*3+4");
    Map<String, Object> r = canvas.run("chain_group_chord");
    assertEquals(15, map(r.get("chord")).get("ok"), r.toString());
    assertEquals(List.of(4, 6), map(r.get("group")).get("ok"), r.toString());
  }

  @Test
  void aFailingStepStopsTheChainAndItsFailureReachesGet() throws Exception {
    Map<String, Object> r = canvas.run("chain_fails");
    assertNotNull(r.get("error"), r.toString());
    assertEquals("ValueError", map(r.get("error")).get("type"), r.toString());
    assertEquals("broken link", map(r.get("error")).get("message"));
    assertEquals("FAILURE", r.get("state"), "the last step is marked failed, not left PENDING");
  }

  @Test
  void groupResultsComeBackInOrderAndSaveRestoreWorks() throws Exception {
    Map<String, Object> r = canvas.run("group");
    List<Object> expected = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      expected.add(2 * i);
    }
    assertEquals(expected, r.get("ok"));
    assertEquals(expected, r.get("restored"));
    assertEquals(
        r.get("group_id"), r.get("member_group_id"), "group_id in each member's result document");
  }

  @Test
  void chordOfAHundredJoinsOnRedis() throws Exception {
    assertEquals(9900, canvas.run("chord").get("ok"));
  }

  @Test
  void chordOfAThousandFiresItsBodyExactlyOnce() throws Exception {
    assertEquals(999000, canvas.run("chord", "1000").get("ok"));
    // every message consumed and every outcome recorded: then 1000 members + 1 body, never 2 bodies
    try (Amqp amqp = new Amqp()) {
      Polling.until(
          () ->
              amqp.ready(queue) == 0
                  && worker.resultStats().pendingWrites() == 0
                  && worker.poolStats().active() == 0,
          10_000);
    }
    assertEquals(1001, worker.resultStats().succeeded());
  }

  @Test
  void aFailedHeaderTaskFailsTheBodyWithChordErrorAndRunsItsErrback() throws Exception {
    Map<String, Object> r = canvas.run("chord_error");
    Map<String, Object> e = map(r.get("error"));
    assertEquals("ChordError", e.get("type"), r.toString());
    assertTrue(
        ((String) e.get("message"))
            .matches("Dependency [0-9a-f-]{36} raised ValueError\\('boom'\\)"),
        e.toString());
    assertEquals(
        r.get("body_id"), map(r.get("errback")).get("ok"), "the body's errback gets the body id");
    assertEquals(
        "ValueError",
        map(map(r.get("via_parents")).get("error")).get("type"),
        "get() raises the header's error first");
  }

  @Test
  void chordUnlockJoinsForBackendsWithoutNativeChords() throws Exception {
    assertEquals(20, canvas.run("chord_unlock").get("ok"));
  }

  @Test
  void builtInCeleryTasksAreRecognised() throws Exception {
    Map<String, Object> r = canvas.run("builtins");
    assertEquals(2, map(r.get("accumulate")).get("ok"));
    assertEquals(List.of(1, 2, 3), map(r.get("accumulate_all")).get("ok"));
    assertTrue(map(r.get("backend_cleanup")).containsKey("ok"));
    assertNull(map(r.get("backend_cleanup")).get("ok"));
    assertEquals("NotImplementedError", map(map(r.get("chain")).get("error")).get("type"));
    assertEquals(42, map(r.get("group")).get("ok"));
    assertEquals(6, map(r.get("chord")).get("ok"));
  }

  @Test
  void aMalformedCallbackFailsTheTaskWithAClearErrorAndTheWorkerKeepsWorking() throws Exception {
    String id = java.util.UUID.randomUUID().toString();
    Map<String, Object> headers =
        new java.util.HashMap<>(
            Map.of("lang", "py", "task", "examples.add", "id", id, "root_id", id, "retries", 0));
    String body =
        "[[1, 2], {}, {\"callbacks\": [{\"task\": 5, \"args\": \"nope\"}], \"errbacks\": null, "
            + "\"chain\": null, \"chord\": null}]";
    try (Amqp amqp = new Amqp()) {
      amqp.publish(
          queue,
          "application/json",
          headers,
          body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    Map<String, Object> r = client.get(List.of(id), 20).get(0);
    assertEquals("FAILURE", r.get("state"), r.toString());
    assertEquals("InvalidTaskError", r.get("exc_type"));
    assertTrue(
        ((String) r.get("exc_message")).contains("signature has no task name"), r.toString());
    assertEquals(60, canvas.run("chain").get("ok"), "the worker still runs canvases");
  }

  /**
   * Issue 12: the same canvases (chains mixing chords, tasks and groups, nested chords, chord
   * bodies that are chains or groups, empty and single-task headers, celery.map/starmap/chunks) run
   * on Celery's own worker and on ours, with equal results.
   */
  @Test
  @SuppressWarnings("unchecked")
  void canvasesGiveTheSameResultsOnCeleryWorkerAndOurs() throws Exception {
    Map<String, Object> ours = canvas.run("fidelity");
    String pyQ = queue + "-py";
    Map<String, Object> celery;
    try (PythonWorker py =
        PythonWorker.start(
            Brokers.AMQP_URL, Brokers.REDIS_URL, pyQ, Map.of("CELERITY_TEST_DEFAULT_QUEUE", pyQ))) {
      celery = new CanvasClient(Brokers.AMQP_URL, Brokers.REDIS_URL, pyQ).run("fidelity");
    } finally {
      try (Amqp amqp = new Amqp()) {
        amqp.delete(pyQ);
      }
    }
    assertEquals(CanvasClient.FIDELITY, celery, "Celery's own worker");
    for (String key : celery.keySet()) {
      assertEquals(
          celery.get(key),
          ours.get(key),
          "canvas " + key + ": Celery's worker gave " + celery.get(key));
    }
    assertEquals(celery.keySet(), ours.keySet());
  }
}

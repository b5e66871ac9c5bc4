package io.celerity.it;

import static io.celerity.it.CeleryClient.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The real Python Celery client against our worker: RabbitMQ broker, Redis results. */
class AmqpInteropTest extends AmqpTestBase {

  @Override
  protected String queuePrefix() {
    return "interop";
  }

  @Test
  void resultsAndExceptionsReachThePythonCaller() throws Exception {
    startWorker(new JsonObject().put("app", new JsonArray().add(TestTasks.class.getName())));
    List<Map<String, Object>> r =
        client.call(
            List.of(
                call("examples.add", List.of(2, 2), Map.of()),
                call("examples.add", List.of(), Map.of("x", 1, "y", 2)),
                call("examples.fail", List.of("boom"), Map.of()),
                call("examples.echo", List.of(Map.of("nested", List.of(1, "two", true))), Map.of()),
                call("tests.java_error", List.of("from java"), Map.of()),
                call("examples.nope", List.of(), Map.of())));

    assertEquals("SUCCESS", r.get(0).get("state"));
    assertEquals(4, r.get(0).get("result"));
    assertEquals(3, r.get(1).get("result"));

    assertEquals("FAILURE", r.get(2).get("state"));
    assertEquals("ValueError", r.get(2).get("exc_type"));
    assertEquals("builtins", r.get(2).get("exc_module"));
    assertEquals("boom", r.get(2).get("exc_message"));
    assertNotNull(r.get(2).get("traceback"), "a traceback string reaches the caller");

    assertEquals(Map.of("nested", List.of(1, "two", true)), r.get(3).get("result"));

    // Java exceptions without a Python counterpart keep their Java name; Celery synthesises the
    // class.
    assertEquals("FAILURE", r.get(4).get("state"));
    assertEquals("IllegalStateException", r.get(4).get("exc_type"));
    assertEquals("from java", r.get(4).get("exc_message"));

    assertEquals("FAILURE", r.get(5).get("state"));
    assertEquals("NotRegistered", r.get(5).get("exc_type"));
    assertEquals("celery.exceptions", r.get(5).get("exc_module"));
    try (Amqp amqp = new Amqp()) {
      assertEquals(0, amqp.ready(queue), "the unknown task's message was rejected, not requeued");
    }
  }

  @Test
  void trackStartedShowsPendingStartedSuccess() throws Exception {
    startWorker(new JsonObject().put("track_started", true).put("result_extended", true));
    Map<String, Object> call =
        new java.util.HashMap<>(call("examples.sleep", List.of(0.5), Map.of()));
    call.put("observe_states", true);
    Map<String, Object> r = client.call(List.of(call)).get(0);
    // PENDING is only what the client saw before the worker stored anything: a fast worker may have
    // stored STARTED before the client's first look, so it is not required.
    @SuppressWarnings("unchecked")
    List<String> states = new java.util.ArrayList<>((List<String>) r.get("states"));
    states.remove("PENDING");
    assertEquals(List.of("STARTED", "SUCCESS"), states, "states seen: " + r.get("states"));
    assertTrue(
        ((List<?>) r.get("states")).indexOf("PENDING") <= 0,
        "PENDING only first: " + r.get("states"));
    assertEquals(0.5, r.get("result"));
    @SuppressWarnings("unchecked")
    Map<String, Object> meta = (Map<String, Object>) r.get("raw_meta");
    assertEquals("examples.sleep", meta.get("name"));
    assertEquals(List.of(0.5), meta.get("args"));
    assertEquals(Map.of(), meta.get("kwargs"));
    assertEquals(queue, meta.get("queue"));
    assertEquals(0, meta.get("retries"));
    assertTrue(String.valueOf(meta.get("worker")).startsWith("celerity-test-"));
    assertTrue(
        String.valueOf(meta.get("date_done"))
            .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}"));
  }

  @Test
  void badMessagesAreSettledAndTheWorkerKeepsGoing() throws Exception {
    startWorker(new JsonObject());
    try (Amqp amqp = new Amqp()) {
      Map<String, Object> v2 = Map.of("task", "examples.add", "id", "bad-json-1", "lang", "py");
      // undecodable body: acked and dropped (Celery logs critical and acks)
      amqp.publish(queue, "application/json", v2, "not json{".getBytes(StandardCharsets.UTF_8));
      // content type outside the accept list: rejected
      amqp.publish(
          queue,
          "application/x-python-serialize",
          Map.of("task", "examples.add", "id", "pickle-1"),
          new byte[] {(byte) 0x80, 4, 0x4b, 1, 0x2e});
      // neither a v2 header nor a v1 body: rejected as unknown message
      amqp.publish(
          queue, "application/json", Map.of(), "[1, 2, 3]".getBytes(StandardCharsets.UTF_8));
      // v2 header with a body of the wrong shape: rejected as invalid
      amqp.publish(
          queue,
          "application/json",
          Map.of("task", "examples.add", "id", "shape-1"),
          "{\"args\": 1}".getBytes(StandardCharsets.UTF_8));

      Map<String, Object> r =
          client.call(List.of(call("examples.add", List.of(20, 22), Map.of()))).get(0);
      assertEquals("SUCCESS", r.get("state"));
      assertEquals(42, r.get("result"));
      assertEquals(0, amqp.ready(queue), "no bad message was requeued");
      assertEquals(5L, worker.consumerStats().received());
    }
  }

  @Test
  void argumentsPythonsJsonReadsRunHereToo() throws Exception {
    // a string over Jackson's default 20 million chars, an integer past its default 1,000 digits
    // (Python reads up to 4,300): once dropped as undecodable, Celery runs both
    startWorker(new JsonObject());
    String longText = "x".repeat(21_000_000);
    String digits = "7".repeat(4_000);
    String textId = UUID.randomUUID().toString();
    String numberId = UUID.randomUUID().toString();
    try (Amqp amqp = new Amqp()) {
      amqp.publish(
          queue,
          "application/json",
          Amqp.taskHeaders("examples.echo", textId),
          ("[[\"" + longText + "\"], {}, {}]").getBytes(StandardCharsets.UTF_8));
      amqp.publish(
          queue,
          "application/json",
          Amqp.taskHeaders("examples.echo", numberId),
          ("[[" + digits + "], {}, {}]").getBytes(StandardCharsets.UTF_8));
    }
    List<Map<String, Object>> r = client.get(List.of(textId, numberId), 60);
    assertEquals("SUCCESS", r.get(0).get("state"));
    assertEquals(longText.length(), ((String) r.get(0).get("result")).length());
    assertEquals("SUCCESS", r.get(1).get("state"));
    assertEquals(new BigInteger(digits), r.get(1).get("result"));
  }

  @Test
  void ignoreResultStoresNothing() throws Exception {
    startWorker(new JsonObject());
    Map<String, Object> ignored =
        new java.util.HashMap<>(call("examples.add", List.of(1, 1), Map.of()));
    ignored.put("options", Map.of("ignore_result", true));
    List<Map<String, Object>> r =
        client.call(List.of(ignored, call("examples.add", List.of(2, 2), Map.of())));
    assertEquals(4, r.get(1).get("result"));
    Polling.until(
        () -> worker.resultStats().succeeded() == 2 && worker.resultStats().pendingWrites() == 0,
        10_000);
    Map<String, Object> late = client.get(List.of((String) r.get(0).get("id")), 0.3).get(0);
    assertEquals("PENDING", late.get("state"), "nothing stored for the ignored call");
    assertNull(late.get("raw_meta"));
  }

  @Test
  void requestContextAndAnnotatedTasksFromApp() throws Exception {
    startWorker(new JsonObject().put("app", new JsonArray().add(TestTasks.class.getName())));
    Map<String, Object> r =
        client.call(List.of(call("tests.request_info", List.of(), Map.of()))).get(0);
    @SuppressWarnings("unchecked")
    Map<String, Object> info = (Map<String, Object>) r.get("result");
    assertEquals(r.get("id"), info.get("id"));
    assertEquals(r.get("id"), info.get("root_id"));
    assertEquals(0, info.get("retries"));
    assertFalse(String.valueOf(info.get("hostname")).isEmpty());
  }
}

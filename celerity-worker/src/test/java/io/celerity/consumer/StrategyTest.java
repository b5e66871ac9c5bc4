package io.celerity.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.config.WorkerOptions;
import io.celerity.protocol.DeliveryFixtures;
import io.celerity.protocol.MessageDecoder;
import io.celerity.task.TaskOptions;
import io.celerity.task.TaskRegistry;
import io.celerity.types.Delivery;
import io.celerity.types.Request;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class StrategyTest {

  private static WorkerOptions worker(JsonObject json) {
    return new WorkerOptions(json.put("hostname", "w1@test"));
  }

  private static Strategy strategy(TaskRegistry registry, WorkerOptions options) {
    return new Strategy(new MessageDecoder(), registry, options);
  }

  private static Request run(Strategy s, Delivery d) {
    return assertInstanceOf(Strategy.Run.class, s.decide(d)).request();
  }

  private static TaskRegistry addWith(TaskOptions options) {
    return new TaskRegistry().register("examples.add", options, ctx -> null);
  }

  @Test
  void registeredTaskRunsWithWorkerDefaults() {
    Delivery d = DeliveryFixtures.amqp("add");
    Request r = run(strategy(addWith(TaskOptions.DEFAULTS), worker(new JsonObject())), d);
    assertEquals("4bb44245-db7e-4b67-91d0-1631fbaa872f", r.id());
    assertEquals("examples.add", r.task().name());
    assertEquals(List.of(2, 2), r.message().args());
    assertSame(d, r.delivery());
    assertEquals("w1@test", r.hostname());
    assertFalse(r.acksLate());
    assertFalse(r.trackStarted());
    assertFalse(r.ignoreResult());
    assertFalse(r.taskIgnoresResult());
    assertNull(r.timeLimit());
    assertNull(r.softTimeLimit());
    assertEquals("examples.add[4bb44245-db7e-4b67-91d0-1631fbaa872f]", r.logName());
  }

  @Test
  void redisDeliveryRunsToo() {
    Request r =
        run(
            strategy(addWith(TaskOptions.DEFAULTS), worker(new JsonObject())),
            DeliveryFixtures.redis("add"));
    assertEquals("6e22642d-f8ed-4587-b22e-d8148840244e", r.id());
  }

  @Test
  void workerSettingsApplyWhenTaskHasNone() {
    WorkerOptions w =
        worker(
            new JsonObject()
                .put("acks_late", true)
                .put("track_started", true)
                .put("time_limit", 100)
                .put("soft_time_limit", 90));
    Request r = run(strategy(addWith(TaskOptions.DEFAULTS), w), DeliveryFixtures.amqp("add"));
    assertTrue(r.acksLate());
    assertTrue(r.trackStarted());
    assertEquals(100.0, r.timeLimit());
    assertEquals(90.0, r.softTimeLimit());
  }

  @Test
  void taskSettingsWinOverWorker() {
    WorkerOptions w =
        worker(
            new JsonObject()
                .put("acks_late", true)
                .put("track_started", true)
                .put("time_limit", 100)
                .put("soft_time_limit", 90));
    TaskOptions t =
        TaskOptions.builder().acksLate(false).trackStarted(false).timeLimits(30.0, 20.0).build();
    Request r = run(strategy(addWith(t), w), DeliveryFixtures.amqp("add"));
    assertFalse(r.acksLate());
    assertFalse(r.trackStarted());
    assertEquals(30.0, r.timeLimit());
    assertEquals(20.0, r.softTimeLimit());

    Request r2 =
        run(
            strategy(addWith(TaskOptions.DEFAULTS.withAcksLate(true)), worker(new JsonObject())),
            DeliveryFixtures.amqp("add"));
    assertTrue(r2.acksLate());
  }

  @Test
  void messageTimeLimitsWinOverTaskAndWorker() {
    WorkerOptions w = worker(new JsonObject().put("time_limit", 100).put("soft_time_limit", 90));
    TaskOptions t = TaskOptions.DEFAULTS.withTimeLimits(30.0, 20.0);
    Request r =
        run(strategy(addWith(t), w), DeliveryFixtures.amqp("options")); // timelimit [60, 50]
    assertEquals(60.0, r.timeLimit());
    assertEquals(50.0, r.softTimeLimit());
  }

  @Test
  void onlyOneLimitInTheMessageFallsBackForTheOther() {
    String body = "[[1, 2], {}, {}]";
    java.util.Map<String, Object> headers =
        new java.util.LinkedHashMap<>(DeliveryFixtures.amqp("add").headers());
    headers.put("timelimit", java.util.Arrays.asList(null, 5));
    Delivery d =
        DeliveryFixtures.withBody(
            body.getBytes(StandardCharsets.UTF_8), "application/json", headers);
    WorkerOptions w = worker(new JsonObject().put("time_limit", 100));
    Request r = run(strategy(addWith(TaskOptions.DEFAULTS.withTimeLimits(30.0, null)), w), d);
    assertEquals(30.0, r.timeLimit());
    assertEquals(5.0, r.softTimeLimit());
  }

  @Test
  void ignoreResultHeaderSuppressesSuccessButNotTheTaskFlag() {
    Request r =
        run(
            strategy(addWith(TaskOptions.DEFAULTS), worker(new JsonObject())),
            DeliveryFixtures.amqp("ignore_result"));
    assertTrue(r.ignoreResult());
    assertFalse(r.taskIgnoresResult());
  }

  @Test
  void taskIgnoringResultsSetsBothFlags() {
    Request r =
        run(
            strategy(
                addWith(TaskOptions.DEFAULTS.withIgnoreResult(true)), worker(new JsonObject())),
            DeliveryFixtures.amqp("add"));
    assertTrue(r.ignoreResult());
    assertTrue(r.taskIgnoresResult());
  }

  @Test
  void unknownTaskIsUnregistered() {
    Strategy s = strategy(addWith(TaskOptions.DEFAULTS), worker(new JsonObject()));
    Strategy.Unregistered u =
        assertInstanceOf(Strategy.Unregistered.class, s.decide(DeliveryFixtures.amqp("unicode")));
    assertEquals("examples.echo", u.message().task());
    assertEquals("97f4bdb4-e5f0-4b49-8327-f350fe1c7ba2", u.message().id());
  }

  @Test
  void badContentTypeIsInvalid() {
    Strategy s = strategy(addWith(TaskOptions.DEFAULTS), worker(new JsonObject()));
    Delivery d =
        DeliveryFixtures.withBody(
            DeliveryFixtures.amqp("add").body(), "application/x-python-serialize", null);
    Strategy.Invalid i = assertInstanceOf(Strategy.Invalid.class, s.decide(d));
    assertTrue(i.reason().contains("application/x-python-serialize"), i.reason());
  }

  @Test
  void messageWithoutTaskIsInvalid() {
    Strategy s = strategy(addWith(TaskOptions.DEFAULTS), worker(new JsonObject()));
    Delivery d =
        DeliveryFixtures.withBody(
            "[[], {}, {}]".getBytes(StandardCharsets.UTF_8),
            "application/json",
            java.util.Map.of());
    assertInstanceOf(Strategy.Invalid.class, s.decide(d));
  }

  @Test
  void brokenJsonIsUndecodable() {
    Strategy s = strategy(addWith(TaskOptions.DEFAULTS), worker(new JsonObject()));
    Delivery d =
        DeliveryFixtures.withBody(
            "not json{".getBytes(StandardCharsets.UTF_8), "application/json", null);
    assertInstanceOf(Strategy.Undecodable.class, s.decide(d));
  }
}

package io.celerity.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.task.TaskError;
import io.celerity.task.TaskOptions;
import io.celerity.task.TaskRegistry;
import io.celerity.types.PoolStats;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The thread pool's time limits and slot accounting, on the in-JVM transport (no broker behaviour
 * is under test here).
 */
@ExtendWith(VertxExtension.class)
class PoolBehaviourTest {

  /** {@code t.spin} burns its thread until the test releases it. */
  private static final java.util.concurrent.atomic.AtomicBoolean SPIN_RELEASED =
      new java.util.concurrent.atomic.AtomicBoolean();

  private final String brokerName = "pool-" + UUID.randomUUID();

  private static TaskRegistry registry() {
    return new TaskRegistry()
        .register("t.add", ctx -> ctx.arg(0, Long.class) + ctx.arg(1, Long.class))
        .register(
            "t.spin",
            ctx -> {
              while (!SPIN_RELEASED.get()) {
                Thread.onSpinWait(); // ignores interrupts, like CPU-bound code
              }
              return "spun";
            })
        .register(
            "t.sleepy",
            ctx -> {
              Thread.sleep(10_000);
              return "slept";
            })
        .register(
            "t.polite",
            ctx -> {
              while (!ctx.softTimeLimitExceeded()) {
                try {
                  Thread.sleep(5);
                } catch (InterruptedException e) {
                  // the soft limit: wrap up
                }
              }
              return "cleaned up";
            })
        .register(
            "t.limited",
            TaskOptions.DEFAULTS.withTimeLimits(0.2, null),
            ctx -> {
              Thread.sleep(10_000);
              return "never";
            })
        .register(
            "t.typed",
            ctx -> {
              throw TaskError.keyError("missing");
            })
        .register(
            "t.unserialisable",
            ctx ->
                new Object() {
                  public Object getSelf() {
                    return this;
                  }
                });
  }

  private Future<String> deploy(Vertx vertx, JsonObject extra) {
    return PoolTesting.deploy(vertx, brokerName, registry(), extra);
  }

  private String send(String task, List<Object> args, Double hard, Double soft) {
    return PoolTesting.send(brokerName, task, args, hard, soft);
  }

  private static Future<JsonObject> result(Vertx vertx, String id) {
    return PoolTesting.result(vertx, id);
  }

  @Test
  void hardTimeLimitFailsTheTaskAndFreesItsSlot(Vertx vertx, VertxTestContext test) {
    deploy(vertx, new JsonObject())
        .onComplete(
            test.succeeding(
                d -> {
                  SPIN_RELEASED.set(false);
                  String spin = send("t.spin", List.of(), 0.3, null);
                  String add = send("t.add", List.of(2, 3), null, null);
                  result(vertx, spin)
                      .compose(
                          doc -> {
                            test.verify(
                                () -> {
                                  assertEquals("FAILURE", doc.getString("status"));
                                  JsonObject exc = doc.getJsonObject("result");
                                  assertEquals("TimeLimitExceeded", exc.getString("exc_type"));
                                  assertEquals("billiard.exceptions", exc.getString("exc_module"));
                                  assertEquals(0.3, exc.getJsonArray("exc_message").getDouble(0));
                                });
                            return result(vertx, add);
                          })
                      .onComplete(
                          ar -> {
                            SPIN_RELEASED.set(true);
                            // With one slot, the add ran while the abandoned spin was still burning
                            // its thread (it
                            // spins until released, here): the slot was given back at the hard
                            // limit.
                            test.verify(
                                () -> {
                                  if (ar.failed()) {
                                    throw ar.cause();
                                  }
                                  assertEquals(5L, ar.result().getLong("result"));
                                });
                            test.completeNow();
                          });
                }));
  }

  @Test
  void softTimeLimitRaisesSoftTimeLimitExceededInTheTask(Vertx vertx, VertxTestContext test) {
    deploy(vertx, new JsonObject().put("soft_time_limit", 0.2))
        .onComplete(
            test.succeeding(
                d -> {
                  String sleepy = send("t.sleepy", List.of(), null, null);
                  result(vertx, sleepy)
                      .onComplete(
                          test.succeeding(
                              doc ->
                                  test.verify(
                                      () -> {
                                        assertEquals("FAILURE", doc.getString("status"));
                                        assertEquals(
                                            "SoftTimeLimitExceeded",
                                            doc.getJsonObject("result").getString("exc_type"));
                                        test.completeNow();
                                      })));
                }));
  }

  @Test
  void taskThatHandlesTheSoftLimitSucceeds(Vertx vertx, VertxTestContext test) {
    deploy(vertx, new JsonObject())
        .onComplete(
            test.succeeding(
                d -> {
                  String polite = send("t.polite", List.of(), null, 0.1);
                  result(vertx, polite)
                      .onComplete(
                          test.succeeding(
                              doc ->
                                  test.verify(
                                      () -> {
                                        assertEquals("SUCCESS", doc.getString("status"));
                                        assertEquals("cleaned up", doc.getString("result"));
                                        test.completeNow();
                                      })));
                }));
  }

  @Test
  void messageTimeLimitWinsOverTaskOption(Vertx vertx, VertxTestContext test) {
    deploy(vertx, new JsonObject().put("time_limit", 30))
        .onComplete(
            test.succeeding(
                d -> {
                  // task option 0.2 s beats the worker's 30 s; a message header of 0.1 s beats both
                  String byTask = send("t.limited", List.of(), null, null);
                  String byMessage = send("t.limited", List.of(), 0.1, null);
                  Future.all(result(vertx, byTask), result(vertx, byMessage))
                      .onComplete(
                          test.succeeding(
                              cf ->
                                  test.verify(
                                      () -> {
                                        JsonObject a = cf.resultAt(0);
                                        JsonObject b = cf.resultAt(1);
                                        assertEquals(
                                            0.2,
                                            a.getJsonObject("result")
                                                .getJsonArray("exc_message")
                                                .getDouble(0));
                                        assertEquals(
                                            0.1,
                                            b.getJsonObject("result")
                                                .getJsonArray("exc_message")
                                                .getDouble(0));
                                        test.completeNow();
                                      })));
                }));
  }

  @Test
  void concurrencyBoundsRunningTasks(Vertx vertx, VertxTestContext test) {
    deploy(vertx, new JsonObject().put("concurrency", 3))
        .onComplete(
            test.succeeding(
                d -> {
                  List<String> ids = new ArrayList<>();
                  for (int i = 0; i < 5; i++) {
                    ids.add(send("t.polite", List.of(), null, 0.3));
                  }
                  awaitStats(vertx, s -> s.active() == 3, System.currentTimeMillis() + 5000)
                      .onComplete(
                          test.succeeding(
                              stats ->
                                  test.verify(
                                      () -> {
                                        // three polite tasks hold the three slots for at least 0.3
                                        // s; two wait their turn
                                        assertEquals(2, stats.reserved());
                                        test.completeNow();
                                      })));
                }));
  }

  private static Future<PoolStats> awaitStats(
      Vertx vertx, java.util.function.Predicate<PoolStats> until, long deadline) {
    return PoolTesting.awaitStats(vertx, until, deadline);
  }

  @Test
  void unserialisableResultFailsWithEncodeError(Vertx vertx, VertxTestContext test) {
    deploy(vertx, new JsonObject())
        .onComplete(
            test.succeeding(
                d -> {
                  String bad = send("t.unserialisable", List.of(), null, null);
                  String good = send("t.add", List.of(1, 2), null, null);
                  Future.all(result(vertx, bad), result(vertx, good))
                      .onComplete(
                          test.succeeding(
                              cf ->
                                  test.verify(
                                      () -> {
                                        JsonObject doc = cf.resultAt(0);
                                        assertEquals("FAILURE", doc.getString("status"));
                                        assertEquals(
                                            "EncodeError",
                                            doc.getJsonObject("result").getString("exc_type"));
                                        assertEquals(
                                            "kombu.exceptions",
                                            doc.getJsonObject("result").getString("exc_module"));
                                        assertEquals(
                                            3L,
                                            ((JsonObject) cf.resultAt(1)).getLong("result"),
                                            "the worker carries on");
                                        test.completeNow();
                                      })));
                }));
  }

  @Test
  void virtualPoolNeedsJava21(Vertx vertx, VertxTestContext test) {
    Future<String> f = deploy(vertx, new JsonObject().put("pool", "virtual"));
    if (Runtime.version().feature() >= 21) {
      f.onComplete(test.succeedingThenComplete());
    } else {
      f.onComplete(
          test.failing(
              err ->
                  test.verify(
                      () -> {
                        assertTrue(err.getMessage().contains("Java 21"), err.getMessage());
                        test.completeNow();
                      })));
    }
  }
}

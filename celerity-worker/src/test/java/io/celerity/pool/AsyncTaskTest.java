package io.celerity.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.celerity.Addresses;
import io.celerity.task.Task;
import io.celerity.task.TaskContext;
import io.celerity.task.TaskOptions;
import io.celerity.task.TaskRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * Java tasks returning a future run on event loops, bounded by {@code async_concurrency} apart from
 * the pool's threads, with results, retries, time limits and terminate as for other tasks (in-JVM
 * broker; the Python client's view is in io.celerity.it.AsyncTasksTest).
 */
@ExtendWith(VertxExtension.class)
class AsyncTaskTest {

  private final String brokerName = "async-" + UUID.randomUUID();

  /** Promises the test completes by name: tasks wait on them without holding a thread. */
  private static final Map<String, Promise<String>> GATES = new ConcurrentHashMap<>();

  /** What each task saw of its cancellation, by task id. */
  private static final Map<String, String> CANCELLED = new ConcurrentHashMap<>();

  @AfterEach
  void clear() {
    GATES.clear();
    CANCELLED.clear();
  }

  private static Promise<String> gate(String name) {
    return GATES.computeIfAbsent(name, k -> Promise.promise());
  }

  /** Annotated async tasks: the return type makes them async. */
  public static class Annotated {
    @Task(name = "a.later")
    public static Future<Long> later(TaskContext ctx, long x, long y) {
      Vertx vertx = ctx.unwrap(Vertx.class);
      Context context = ctx.unwrap(Context.class);
      boolean onLoop = Context.isOnEventLoopThread() && context.isEventLoopContext();
      Promise<Long> p = Promise.promise();
      vertx.setTimer(
          20, id -> p.complete(onLoop && Vertx.currentContext() == context ? x + y : -1));
      return p.future();
    }

    @Task(name = "a.stage")
    public static CompletionStage<String> stage(String s) {
      return CompletableFuture.supplyAsync(() -> s.toUpperCase());
    }

    @Task(name = "a.sync")
    public static String sync() {
      return "thread";
    }
  }

  private static TaskRegistry registry() {
    return new TaskRegistry()
        .registerAnnotated(Annotated.class)
        .registerAsync(
            "a.gate", TaskOptions.DEFAULTS, ctx -> gate(ctx.arg(0, String.class)).future())
        .registerAsync(
            "a.retrying",
            TaskOptions.DEFAULTS.withRetries(3, 0.01),
            ctx ->
                ctx.unwrap(Vertx.class)
                    .timer(5)
                    .compose(
                        x -> {
                          if (ctx.retries() < 2) {
                            throw ctx.retry(); // from inside the future chain
                          }
                          return Future.succeededFuture("retried " + ctx.retries());
                        }))
        .registerAsync(
            "a.polite",
            TaskOptions.DEFAULTS,
            ctx -> ctx.cancelled().thenApply(reason -> "stopped: " + reason))
        .registerAsync(
            "a.cancelling",
            TaskOptions.DEFAULTS,
            ctx ->
                ctx.cancelled()
                    .thenCompose(
                        reason ->
                            CompletableFuture.failedFuture(
                                new java.util.concurrent.CancellationException(reason))))
        .registerAsync(
            "a.forever",
            TaskOptions.DEFAULTS,
            ctx -> {
              ctx.cancelled().thenAccept(reason -> CANCELLED.put(ctx.id(), reason));
              return Promise.promise().future();
            })
        .registerAsync(
            "a.blocking",
            TaskOptions.DEFAULTS,
            ctx -> {
              Thread.sleep(600); // blocks its event loop: reported, named
              return Future.succeededFuture("blocked");
            });
  }

  private Future<String> deploy(Vertx vertx, JsonObject extra) {
    return PoolTesting.deploy(vertx, brokerName, registry(), extra);
  }

  private String send(String task, List<Object> args, Double hard, Double soft) {
    return PoolTesting.send(brokerName, task, args, hard, soft);
  }

  private static JsonObject exc(JsonObject doc) {
    return doc.getJsonObject("result");
  }

  @Test
  void futureAndStageResultsOnAnEventLoopWithTheWorkersVertx(Vertx vertx, VertxTestContext test) {
    TaskRegistry r = registry();
    assertTrue(r.get("a.later").async() && r.get("a.stage").async() && !r.get("a.sync").async());
    deploy(vertx, new JsonObject())
        .onComplete(
            test.succeeding(
                d -> {
                  String later = send("a.later", List.of(2, 3), null, null);
                  String stage = send("a.stage", List.of("abc"), null, null);
                  String sync = send("a.sync", List.of(), null, null);
                  Future.all(
                          PoolTesting.result(vertx, later),
                          PoolTesting.result(vertx, stage),
                          PoolTesting.result(vertx, sync))
                      .onComplete(
                          test.succeeding(
                              cf ->
                                  test.verify(
                                      () -> {
                                        assertEquals(
                                            5L,
                                            ((JsonObject) cf.resultAt(0)).getLong("result"),
                                            "ran on its event-loop context: " + cf.resultAt(0));
                                        assertEquals(
                                            "ABC",
                                            ((JsonObject) cf.resultAt(1)).getString("result"));
                                        assertEquals(
                                            "thread",
                                            ((JsonObject) cf.resultAt(2)).getString("result"));
                                        test.completeNow();
                                      })));
                }));
  }

  @Test
  void asyncTasksAreBoundedByAsyncConcurrencyNotByPoolThreads(Vertx vertx, VertxTestContext test) {
    // one pool thread, 40 async slots: 40 tasks wait at once, 10 more are reserved, and a thread
    // task still runs
    deploy(vertx, new JsonObject().put("async_concurrency", 40))
        .onComplete(
            test.succeeding(
                d -> {
                  List<String> ids = new ArrayList<>();
                  for (int i = 0; i < 50; i++) {
                    ids.add(send("a.gate", List.of("g"), null, null));
                  }
                  String sync = send("a.sync", List.of(), null, null);
                  PoolTesting.awaitStats(
                          vertx,
                          s ->
                              s.async().getInteger("active") == 40
                                  && s.async().getInteger("reserved") == 10,
                          System.currentTimeMillis() + 10_000)
                      .compose(stats -> PoolTesting.result(vertx, sync))
                      .compose(
                          doc -> {
                            test.verify(() -> assertEquals("thread", doc.getString("result")));
                            gate("g").complete("open");
                            return Future.all(
                                ids.stream().map(id -> PoolTesting.result(vertx, id)).toList());
                          })
                      .onComplete(
                          test.succeeding(
                              all ->
                                  test.verify(
                                      () -> {
                                        for (int i = 0; i < ids.size(); i++) {
                                          assertEquals(
                                              "open",
                                              ((JsonObject) all.resultAt(i)).getString("result"));
                                        }
                                        test.completeNow();
                                      })));
                }));
  }

  @Test
  void retryFromInsideTheFutureChain(Vertx vertx, VertxTestContext test) {
    deploy(vertx, new JsonObject())
        .onComplete(
            test.succeeding(
                d ->
                    PoolTesting.result(vertx, send("a.retrying", List.of(), null, null))
                        .onComplete(
                            test.succeeding(
                                doc ->
                                    test.verify(
                                        () -> {
                                          assertEquals("SUCCESS", doc.getString("status"));
                                          assertEquals("retried 2", doc.getString("result"));
                                          test.completeNow();
                                        })))));
  }

  @Test
  void softLimitIsACancellationTheTaskSees(Vertx vertx, VertxTestContext test) {
    deploy(vertx, new JsonObject())
        .onComplete(
            test.succeeding(
                d -> {
                  String polite = send("a.polite", List.of(), null, 0.1);
                  String cancelling = send("a.cancelling", List.of(), null, 0.1);
                  Future.all(
                          PoolTesting.result(vertx, polite), PoolTesting.result(vertx, cancelling))
                      .onComplete(
                          test.succeeding(
                              cf ->
                                  test.verify(
                                      () -> {
                                        assertEquals(
                                            "stopped: SoftTimeLimitExceeded",
                                            ((JsonObject) cf.resultAt(0)).getString("result"));
                                        JsonObject failed = cf.resultAt(1);
                                        assertEquals("FAILURE", failed.getString("status"));
                                        assertEquals(
                                            "SoftTimeLimitExceeded",
                                            exc(failed).getString("exc_type"));
                                        test.completeNow();
                                      })));
                }));
  }

  @Test
  void hardLimitMarksTheTaskAtOnceAndFreesItsSlot(Vertx vertx, VertxTestContext test) {
    deploy(vertx, new JsonObject().put("async_concurrency", 1))
        .onComplete(
            test.succeeding(
                d -> {
                  String forever = send("a.forever", List.of(), 0.2, null);
                  String next = send("a.later", List.of(1, 1), null, null);
                  PoolTesting.result(vertx, forever)
                      .compose(
                          doc -> {
                            test.verify(
                                () -> {
                                  assertEquals("FAILURE", doc.getString("status"));
                                  assertEquals("TimeLimitExceeded", exc(doc).getString("exc_type"));
                                  assertEquals("TimeLimitExceeded", CANCELLED.get(forever));
                                });
                            return PoolTesting.result(
                                vertx, next); // the one async slot was given back
                          })
                      .compose(
                          doc -> {
                            test.verify(() -> assertEquals(2L, doc.getLong("result")));
                            return PoolTesting.awaitStats(vertx, s -> true, 0);
                          })
                      .onComplete(
                          test.succeeding(
                              stats ->
                                  test.verify(
                                      () -> {
                                        assertEquals(
                                            1,
                                            stats.async().getInteger("abandoned"),
                                            "its future never ended: " + stats);
                                        test.completeNow();
                                      })));
                }));
  }

  @Test
  void terminateCancelsTheTask(Vertx vertx, VertxTestContext test) {
    deploy(vertx, new JsonObject())
        .onComplete(
            test.succeeding(
                d -> {
                  String forever = send("a.forever", List.of(), null, null);
                  PoolTesting.awaitStats(
                          vertx,
                          s -> s.async().getInteger("active") == 1,
                          System.currentTimeMillis() + 10_000)
                      .compose(
                          s ->
                              vertx
                                  .eventBus()
                                  .<JsonArray>request(
                                      Addresses.POOL_REVOKE,
                                      new io.celerity.types.ControlRequests.Revoke(
                                          List.of(forever), true, "SIGTERM")))
                      .compose(
                          reply -> {
                            test.verify(
                                () -> assertEquals(List.of(forever), reply.body().getList()));
                            return PoolTesting.result(vertx, forever);
                          })
                      .onComplete(
                          test.succeeding(
                              doc ->
                                  test.verify(
                                      () -> {
                                        assertEquals("REVOKED", doc.getString("status"));
                                        assertEquals("terminated", CANCELLED.get(forever));
                                        test.completeNow();
                                      })));
                }));
  }

  @Test
  void aTaskBlockingItsEventLoopIsReportedByName(Vertx vertx, VertxTestContext test) {
    Logger logger = (Logger) LoggerFactory.getLogger("celery.pool.async");
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    deploy(vertx, new JsonObject().put("async_blocked_threshold", 0.2))
        .onComplete(
            test.succeeding(
                d -> {
                  String blocking = send("a.blocking", List.of(), null, null);
                  PoolTesting.result(vertx, blocking)
                      .onComplete(
                          test.succeeding(
                              doc ->
                                  test.verify(
                                      () -> {
                                        logger.detachAppender(appender);
                                        assertEquals(
                                            "blocked",
                                            doc.getString("result"),
                                            "the task itself still succeeds");
                                        List<String> errors =
                                            appender.list.stream()
                                                .filter(
                                                    e -> e.getLevel().toString().equals("ERROR"))
                                                .map(ILoggingEvent::getFormattedMessage)
                                                .toList();
                                        assertEquals(1, errors.size(), errors.toString());
                                        assertTrue(
                                            errors.get(0).contains("a.blocking[" + blocking + "]"),
                                            errors.get(0));
                                        assertFalse(
                                            errors.get(0).contains("a.later"), errors.get(0));
                                        test.completeNow();
                                      })));
                }));
  }
}

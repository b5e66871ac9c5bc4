package io.celerity.it;

import io.celerity.canvas.Signature;
import io.celerity.task.Task;
import io.celerity.task.TaskContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/** Async Java tasks (returning futures) the integration tests load with {@code app}. */
public class AsyncTestTasks {

  /** What each task saw of its cancellation, by task id. */
  public static final Map<String, String> CANCELLED = new ConcurrentHashMap<>();

  @Task(name = "jaio.wait")
  public static Future<Double> waitFor(TaskContext ctx, double seconds) {
    return ctx.unwrap(Vertx.class).timer(Math.max(1, (long) (seconds * 1000))).map(x -> seconds);
  }

  @Task(name = "jaio.request")
  public static Future<Map<String, Object>> request(TaskContext ctx) {
    return ctx.unwrap(Vertx.class)
        .timer(1)
        .map(x -> Map.of("id", ctx.id(), "retries", ctx.retries(), "hostname", ctx.hostname()));
  }

  @Task(name = "jaio.retrying", maxRetries = 3, defaultRetryDelay = 0.05)
  public static Future<String> retrying(TaskContext ctx) {
    return ctx.unwrap(Vertx.class)
        .timer(5)
        .compose(
            x -> {
              if (ctx.retries() < 2) {
                throw ctx.retry();
              }
              return Future.succeededFuture("retried " + ctx.retries());
            });
  }

  @Task(name = "jaio.soft")
  public static CompletionStage<String> soft(TaskContext ctx) {
    return ctx.cancelled().thenApply(reason -> "stopped: " + reason);
  }

  @Task(name = "jaio.forever")
  public static Future<Object> forever(TaskContext ctx) {
    ctx.cancelled().thenAccept(reason -> CANCELLED.put(ctx.id(), reason));
    return Promise.promise().future();
  }

  /**
   * Promises the test completes by name ({@link #open}): the tasks wait on them without a thread.
   */
  public static final Map<String, Promise<String>> GATES = new ConcurrentHashMap<>();

  public static void open(String gate) {
    GATES.computeIfAbsent(gate, k -> Promise.promise()).tryComplete("open");
  }

  @Task(name = "jaio.gate")
  public static Future<String> gate(String gate) {
    return GATES.computeIfAbsent(gate, k -> Promise.promise()).future();
  }

  /**
   * Sends {@code jaio.spawn(depth - 1)} without blocking (down to 0) and returns what it saw of its
   * own request with the id of what it sent.
   */
  @Task(name = "jaio.spawn")
  public static CompletionStage<Map<String, Object>> spawn(TaskContext ctx, int depth) {
    CompletionStage<String> child =
        depth > 0
            ? ctx.sendStage("jaio.spawn", List.of(depth - 1), Map.of(), Map.of())
            : CompletableFuture.completedFuture(null);
    return child.thenApply(
        id -> {
          Map<String, Object> seen = new LinkedHashMap<>();
          seen.put("parent_id", ctx.parentId());
          seen.put("root_id", ctx.rootId());
          seen.put("child", id);
          return seen;
        });
  }

  /** Sends a subtask without waiting for the send, and ends at once. */
  @Task(name = "jaio.fire_and_forget")
  public static Future<String> fireAndForget(TaskContext ctx) {
    ctx.delayStage(Signature.of("jaio.wait", 0.01));
    return Future.succeededFuture("sent");
  }

  /** The blocking ctx.delay on the event loop: refused. */
  @Task(name = "jaio.blocking_delay")
  public static Future<String> blockingDelay(TaskContext ctx) {
    return Future.succeededFuture(ctx.delay(Signature.of("jaio.wait", 0.01)));
  }

  @Task(name = "jaio.failing")
  public static CompletionStage<Object> failing(String message) {
    return CompletableFuture.failedFuture(new IllegalStateException(message));
  }
}

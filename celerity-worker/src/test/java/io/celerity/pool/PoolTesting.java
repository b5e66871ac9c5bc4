package io.celerity.pool;

import static io.celerity.support.OnLoop.onLoop;

import io.celerity.Addresses;
import io.celerity.protocol.TaskMessages;
import io.celerity.transport.memory.MemoryBroker;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.PoolStats;
import io.celerity.types.Request;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * What the pool tests share: a pool started on an event loop (where TaskPool must be used), and a
 * listener recording what it reports.
 */
final class PoolTesting {

  private PoolTesting() {}

  /** A pool on {@code ctx}'s event loop over {@code runner}, its threads started. */
  static TaskPool startPool(
      Vertx vertx, Context ctx, Runner runner, int concurrency, TaskPool.Listener listener)
      throws Exception {
    TaskPool pool = onLoop(ctx, () -> new TaskPool(vertx, ctx, runner, concurrency, listener));
    onLoop(ctx, pool::warmUp);
    return pool;
  }

  /** Records the requests a pool started and the outcomes it reported. */
  static final class Recorder implements TaskPool.Listener {
    final List<Request> started = Collections.synchronizedList(new ArrayList<>());
    final List<TaskOutcome> finished = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void started(Request request) {
      started.add(request);
    }

    @Override
    public void finished(TaskOutcome outcome) {
      finished.add(outcome);
    }
  }

  /**
   * Publishes a task message on the in-JVM broker {@code brokerName}, with time limits in its
   * headers; its id.
   */
  static String send(String brokerName, String task, List<Object> args, Double hard, Double soft) {
    OutgoingMessage m =
        TaskMessages.create(task, args, Map.of(), "celery", "test", null, null, null);
    if (hard != null || soft != null) {
      m.headers().put("timelimit", Arrays.asList(hard, soft));
    }
    MemoryBroker.named(brokerName).publish(m);
    return TaskMessages.id(m);
  }

  /** Polls the worker's result store until the task has a ready state. */
  static Future<JsonObject> result(Vertx vertx, String id) {
    Promise<JsonObject> p = Promise.promise();
    poll(vertx, id, p, System.currentTimeMillis() + 15_000);
    return p.future();
  }

  private static void poll(Vertx vertx, String id, Promise<JsonObject> p, long deadline) {
    vertx
        .eventBus()
        .<JsonObject>request(Addresses.RESULT_GET, id)
        .onComplete(
            ar -> {
              JsonObject doc = ar.succeeded() ? ar.result().body() : null;
              if (doc != null
                  && List.of("SUCCESS", "FAILURE", "REVOKED").contains(doc.getString("status"))) {
                p.complete(doc);
              } else if (System.currentTimeMillis() > deadline) {
                p.fail("no result for " + id);
              } else {
                vertx.setTimer(10, t -> poll(vertx, id, p, deadline));
              }
            });
  }

  /** Polls the pool's stats until {@code until} holds. */
  static Future<PoolStats> awaitStats(
      Vertx vertx, java.util.function.Predicate<PoolStats> until, long deadline) {
    return vertx
        .eventBus()
        .<PoolStats>request(Addresses.POOL_STATS, null)
        .compose(
            m -> {
              if (until.test(m.body())) {
                return Future.succeededFuture(m.body());
              }
              if (System.currentTimeMillis() > deadline) {
                return Future.failedFuture("pool never reached the expected state: " + m.body());
              }
              Promise<PoolStats> p = Promise.promise();
              vertx.setTimer(5, t -> awaitStats(vertx, until, deadline).onComplete(p));
              return p.future();
            });
  }

  /**
   * A worker with one pool thread on the in-JVM broker {@code brokerName}, running {@code
   * registry}'s tasks.
   */
  static Future<String> deploy(
      Vertx vertx, String brokerName, io.celerity.task.TaskRegistry registry, JsonObject extra) {
    JsonObject conf =
        new JsonObject()
            .put("broker", "memory://" + brokerName)
            .put("result_backend", "memory://")
            .put("queues", new io.vertx.core.json.JsonArray().add("celery"))
            .put("concurrency", 1)
            .put("http_port", 0)
            .put("load_examples", false)
            .mergeIn(extra);
    return vertx.deployVerticle(
        new io.celerity.WorkerVerticle(registry),
        new io.vertx.core.DeploymentOptions().setConfig(conf));
  }
}

package io.celerity.pool;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.celerity.consumer.Request;
import io.celerity.consumer.Settle;
import io.celerity.result.TaskOutcome;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool-dispatcher: hands requests to the {@link TaskPool} and reports starts and outcomes to
 * the result-reader.
 */
public class PoolDispatcherVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger("celery.worker");

  private TaskPool pool;
  /** Ids revoked while their request may be on its way here from the consumer. */
  private final io.celerity.consumer.RevokedSet revoked = new io.celerity.consumer.RevokedSet();

  @Override
  public Future<?> start() {
    WorkerOptions options = new WorkerOptions(config());
    var bus = vertx.eventBus();
    pool = new TaskPool(vertx, context, new ThreadRunner(options.getPool()), options.getConcurrency(), new TaskPool.Listener() {
      @Override
      public void started(Request request) {
        bus.send(Addresses.RESULT_STARTED, request);
      }

      @Override
      public void finished(TaskOutcome outcome) {
        bus.send(Addresses.RESULT_OUTCOME, outcome);
      }
    });
    pool.revokedCheck(revoked::contains);
    bus.<Request>consumer(Addresses.POOL_APPLY, m -> pool.submit(m.body()));
    bus.<JsonObject>consumer(Addresses.POOL_REVOKE, m -> {
      java.util.List<String> ids = new java.util.ArrayList<>();
      m.body().getJsonArray("ids").forEach(id -> ids.add(id.toString()));
      ids.forEach(revoked::add);
      java.util.List<String> terminated = pool.revoke(ids, m.body().getBoolean("terminate", false),
        m.body().getString("signal", "SIGTERM"));
      m.reply(new JsonObject().put("terminated", new JsonArray(terminated)));
    });
    bus.consumer(Addresses.POOL_STATS, m -> m.reply(stats()));
    bus.<Double>consumer(Addresses.POOL_DRAIN, this::drain);
    bus.<Long>consumer(Addresses.POOL_FORGET_GENERATION, m -> {
      int dropped = pool.forgetGeneration(m.body());
      if (dropped > 0) {
        log.warn("Dropped {} reserved task(s) of the lost broker connection; the broker redelivers them", dropped);
      }
    });
    return Future.succeededFuture();
  }

  private JsonObject stats() {
    JsonArray active = new JsonArray();
    pool.active().forEach(r -> active.add(new JsonObject().put("id", r.id()).put("name", r.message().task())));
    return new JsonObject().put("max-concurrency", pool.concurrency()).put("active", pool.activeCount())
      .put("reserved", pool.queuedCount()).put("active_requests", active)
      .put("processed", pool.processed()).put("total", new JsonObject(new java.util.LinkedHashMap<>(pool.totals())));
  }

  /** Warm shutdown: queued requests go back to the broker; running ones may finish within the timeout. */
  private void drain(Message<Double> m) {
    for (Request r : pool.takeQueued()) {
      vertx.eventBus().send(Addresses.CONSUMER_SETTLE, Settle.requeue(r.delivery()));
    }
    long deadline = System.nanoTime() + (long) (m.body() * 1e9);
    Promise<Void> done = Promise.promise();
    waitIdle(deadline, done);
    done.future().onComplete(ar -> m.reply(pool.activeCount()));
  }

  private void waitIdle(long deadline, Promise<Void> done) {
    if (pool.activeCount() == 0 || System.nanoTime() >= deadline) {
      if (pool.activeCount() > 0) {
        log.warn("Shutdown timeout reached with {} task(s) still running", pool.activeCount());
      }
      done.complete();
      return;
    }
    vertx.setTimer(20, id -> waitIdle(deadline, done));
  }

  @Override
  public Future<?> stop() {
    pool.shutdownNow();
    return Future.succeededFuture();
  }
}

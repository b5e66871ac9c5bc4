package io.celerity.pool;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.celerity.pool.process.ProcessRunner;
import io.celerity.task.TaskRegistry;
import io.celerity.types.ControlRequests;
import io.celerity.types.PoolStats;
import io.celerity.types.Request;
import io.celerity.types.Settle;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool-dispatcher: hands requests to the {@link TaskPool} and reports starts and outcomes to
 * the result-reader. Also the pool's autoscaler and the target of pool_grow / pool_shrink.
 */
public class PoolDispatcherVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger("celery.worker");

  private final io.celerity.WorkerServices services;
  private final TaskRegistry registry;
  private TaskPool pool;
  private boolean disablePrefetch;
  /** Ids revoked while their request may be on its way here from the consumer. */
  private final io.celerity.types.RevokedSet revoked = new io.celerity.types.RevokedSet();
  private Runner runner;
  private Autoscaler autoscaler;
  private java.util.List<Settle> earlyAcks = new java.util.ArrayList<>();

  /** A dispatcher whose child processes may add tasks only they can run to the services' registry. */
  public PoolDispatcherVerticle(io.celerity.WorkerServices services) {
    this.services = services;
    this.registry = services.registry();
  }

  @Override
  public Future<?> start() {
    WorkerOptions options = new WorkerOptions(config());
    disablePrefetch = options.isDisablePrefetch();
    var bus = vertx.eventBus();
    io.celerity.events.TaskEvents events = services.events();
    io.celerity.metrics.WorkerMetrics metrics = services.metrics();
    runner = "process".equals(options.getPool()) ? new ProcessRunner(vertx, context, options, registry)
      : new ThreadRunner(options.getPool(), options.getMaxAbandonedThreads());
    pool = new TaskPool(vertx, context, runner, options.getInitialConcurrency(), new TaskPool.Listener() {
      @Override
      public void started(Request request) {
        if (!request.acksLate()) {
          // Early ack straight to the consumer (acks pace the prefetch window, so this path is kept one
          // hop short), and the acks of one event-loop turn in one message (starts come in batches).
          earlyAcks.add(Settle.ack(request.delivery()));
          if (earlyAcks.size() == 1) {
            context.runOnContext(v -> sendEarlyAcks());
          }
        }
        metrics.started(request.message().task(), System.nanoTime() - request.receivedNanos());
        if (request.trackStarted() || events.enabled()) {
          // The result-reader needs the start only for STARTED (track_started) and task-started (-E).
          bus.send(Addresses.RESULT_STARTED, request);
        }
      }

      @Override
      public void finished(TaskOutcome outcome) {
        bus.send(Addresses.RESULT_OUTCOME, outcome);
        slotsFreed(1);
      }

      @Override
      public void requeued(Request request) {
        bus.send(Addresses.CONSUMER_SETTLE, Settle.requeue(request.delivery()));
        slotsFreed(1);
      }

    });
    pool.subtasks(new SubtaskSender(vertx, options.getTaskDefaultQueue()));
    pool.revokedCheck(revoked::contains);
    pool.rejectOnWorkerLost(r -> options.isRejectOnWorkerLost() || runner.rejectsOnWorkerLost(r.message().task()));
    bus.<Request>consumer(Addresses.POOL_APPLY, m -> pool.submit(m.body()));
    bus.<ControlRequests.Revoke>consumer(Addresses.POOL_REVOKE, m -> {
      m.body().ids().forEach(revoked::add);
      m.reply(new JsonArray(pool.revoke(m.body().ids(), m.body().terminate(), m.body().signal())));
    });
    bus.consumer(Addresses.POOL_STATS, m -> m.reply(stats()));
    bus.consumer(Addresses.POOL_APP_CONF, m -> m.reply(runner instanceof ProcessRunner p ? p.appConf() : null));
    bus.<Double>consumer(Addresses.POOL_DRAIN, this::drain);
    bus.<Long>consumer(Addresses.POOL_FORGET_GENERATION, m -> {
      int dropped = pool.forgetGeneration(m.body());
      slotsFreed(dropped);
      if (dropped > 0) {
        log.warn("Dropped {} reserved task(s) of the lost broker connection; the broker redelivers them", dropped);
      }
    });
    int max = options.getConcurrency();
    int min = options.getInitialConcurrency();
    if (options.getAutoscale() != null) {
      autoscaler = new Autoscaler(pool, max, min, options.getAutoscaleKeepalive());
      vertx.setPeriodic(1000, id -> autoscaler.tick(System.nanoTime()));
    }
    controlHandlers();
    return pool.warmUp();
  }

  /** Remote control answered from the pool: inspect active/reserved, pool_grow/pool_shrink, autoscale. */
  private void controlHandlers() {
    var bus = vertx.eventBus();
    bus.consumer(Addresses.POOL_REQUESTS, m -> {
      JsonArray active = new JsonArray();
      double nowSeconds = System.currentTimeMillis() / 1000.0;
      long nowNanos = System.nanoTime();
      Long pid = ProcessHandle.current().pid();
      for (Job job : pool.activeJobs()) {
        Request r = job.request();
        double started = nowSeconds - (nowNanos - job.startNanos) / 1e9;
        active.add(io.celerity.types.RequestInfo.of(r, started, !r.acksLate(), pid));
      }
      JsonArray reserved = new JsonArray();
      pool.queued().forEach(r -> reserved.add(io.celerity.types.RequestInfo.of(r, null, false, null)));
      m.reply(new ControlRequests.PoolRequests(active, reserved));
    });
    bus.<ControlRequests.PoolResize>consumer(Addresses.POOL_RESIZE, m -> {
      boolean grow = m.body().grow();
      String cmd = grow ? "pool_grow" : "pool_shrink";
      if (autoscaler != null) {
        m.reply(new JsonObject().put("error", cmd + " is not supported with autoscale. Adjust autoscale range instead."));
        return;
      }
      int n = m.body().n();
      resize(pool.concurrency() + (grow ? n : -n), Integer.MAX_VALUE);
      m.reply(new JsonObject().put("ok", grow ? "pool will grow" : "pool will shrink"));
    });
    bus.<ControlRequests.Autoscale>consumer(Addresses.POOL_AUTOSCALE, m -> {
      if (autoscaler == null) {
        m.reply(new JsonObject().put("error", "ValueError('Autoscale not enabled')"));
        return;
      }
      int newMax = m.body().max();
      int newMin = m.body().min();
      autoscaler.range(newMax, newMin);
      m.reply(new JsonObject().put("ok", "autoscale now max=" + newMax + " min=" + newMin));
    });
  }

  /** pool_grow / pool_shrink: the new slot count, between 1 and the configured maximum. */
  private int resize(int wanted, int max) {
    pool.resize(Math.max(1, Math.min(max, wanted)));
    return pool.concurrency();
  }

  /** Celery's Task.retry, worker side: publish the copy, then store RETRY; the original is settled as usual. */
  /** With {@code disable_prefetch} the consumer takes messages only while slots are free: tell it when they free up. */
  private void sendEarlyAcks() {
    vertx.eventBus().send(Addresses.CONSUMER_SETTLE_ALL, new Settle.Batch(earlyAcks));
    earlyAcks = new java.util.ArrayList<>();
  }

  private void slotsFreed(int n) {
    if (disablePrefetch && n > 0) {
      vertx.eventBus().send(Addresses.CONSUMER_SLOTS_FREED, n);
    }
  }

  private PoolStats stats() {
    return new PoolStats(pool.concurrency(), pool.activeCount(), pool.queuedCount(), pool.processed(),
      new java.util.LinkedHashMap<>(pool.totals()), pool.abandoned(), pool.heldSlots(),
      runner instanceof ProcessRunner p ? p.stats() : null);
  }

  /** Warm shutdown: queued requests go back to the broker; running ones may finish within the timeout. */
  private void drain(Message<Double> m) {
    for (Request r : pool.takeQueued()) {
      vertx.eventBus().send(Addresses.CONSUMER_SETTLE, Settle.requeue(r.delivery()));
    }
    pool.whenIdle().timeout((long) (m.body() * 1000), java.util.concurrent.TimeUnit.MILLISECONDS).onComplete(ar -> {
      if (pool.activeCount() > 0) {
        log.warn("Shutdown timeout reached with {} task(s) still running", pool.activeCount());
      }
      m.reply(pool.activeCount());
    });
  }

  @Override
  public Future<?> stop() {
    pool.shutdownNow();
    return Future.succeededFuture();
  }
}

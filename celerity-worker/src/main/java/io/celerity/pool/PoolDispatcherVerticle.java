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

  /** Async Java tasks (returning a future), on event loops, bounded by async_concurrency. */
  private TaskPool asyncPool;

  private AsyncRunner asyncRunner;

  /**
   * Python async def tasks of -P process: the children's coroutine slots (child_async_concurrency
   * each).
   */
  private TaskPool childAsyncPool;

  private int childAsyncConcurrency;

  /** Every pool, the main one first: revoke, inspect, drain and stats cover them all. */
  private final java.util.List<TaskPool> pools = new java.util.ArrayList<>();

  private boolean disablePrefetch;

  /** Ids revoked while their request may be on its way here from the consumer. */
  private final io.celerity.types.RevokedSet revoked = new io.celerity.types.RevokedSet();

  private Runner runner;
  private Autoscaler autoscaler;
  private java.util.List<Settle> earlyAcks = new java.util.ArrayList<>();
  private io.celerity.TurnBatch<TaskOutcome> outcomes;

  /**
   * A dispatcher whose child processes may add tasks only they can run to the services' registry.
   */
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
    // the outcomes of one turn (the pool threads' reports come in bursts) go in one message
    outcomes =
        new io.celerity.TurnBatch<>(
            task -> context.runOnContext(v -> task.run()),
            batch -> bus.send(Addresses.RESULT_OUTCOME_ALL, new TaskOutcome.Batch(batch)));
    runner =
        "process".equals(options.getPool())
            ? new ProcessRunner(vertx, context, options, registry)
            : new ThreadRunner(options.getPool(), options.getMaxAbandonedThreads());
    TaskPool.Listener listener =
        new TaskPool.Listener() {
          @Override
          public void started(Request request) {
            if (!request.acksLate()) {
              // Early ack straight to the consumer (acks pace the prefetch window, so this path is
              // kept one
              // hop short), and the acks of one event-loop turn in one message (starts come in
              // batches).
              earlyAcks.add(Settle.ack(request.delivery()));
              if (earlyAcks.size() == 1) {
                context.runOnContext(v -> sendEarlyAcks());
              }
            }
            metrics.started(request.message().task(), System.nanoTime() - request.receivedNanos());
            if (request.trackStarted() || events.enabled()) {
              // The result-reader needs the start only for STARTED (track_started) and task-started
              // (-E); outcomes pending in the batch go first, as they ended first.
              outcomes.flush();
              bus.send(Addresses.RESULT_STARTED, request);
            }
          }

          @Override
          public void finished(TaskOutcome outcome) {
            outcomes.add(outcome);
            slotsFreed(1);
          }

          @Override
          public void refused(Request request) {
            metrics.containedFailure();
          }

          @Override
          public void requeued(Request request) {
            bus.send(Addresses.CONSUMER_SETTLE, Settle.requeue(request.delivery()));
            slotsFreed(1);
          }
        };
    pool = new TaskPool(vertx, context, runner, options.getInitialConcurrency(), listener);
    asyncRunner =
        new AsyncRunner(vertx, options.getEventLoops(), options.getAsyncBlockedThreshold());
    asyncPool = new TaskPool(vertx, context, asyncRunner, options.getAsyncConcurrency(), listener);
    pools.add(pool);
    pools.add(asyncPool);
    if (runner instanceof ProcessRunner p) {
      childAsyncConcurrency = options.getChildAsyncConcurrency();
      childAsyncPool =
          new TaskPool(
              vertx,
              context,
              p.coroutines(),
              options.getInitialConcurrency() * childAsyncConcurrency,
              listener);
      pools.add(childAsyncPool);
    }
    SubtaskSender subtasks = new SubtaskSender(vertx, options.getTaskDefaultQueue());
    for (TaskPool p : pools) {
      p.subtasks(subtasks);
      p.revokedCheck(revoked::contains);
      p.rejectOnWorkerLost(
          r -> options.isRejectOnWorkerLost() || runner.rejectsOnWorkerLost(r.message().task()));
    }
    bus.<Request>consumer(Addresses.POOL_APPLY, m -> apply(m.body(), listener));
    bus.<Request.Batch>consumer(
        Addresses.POOL_APPLY_ALL, m -> m.body().requests().forEach(r -> apply(r, listener)));
    bus.<ControlRequests.Revoke>consumer(
        Addresses.POOL_REVOKE,
        m -> {
          m.body().ids().forEach(revoked::add);
          java.util.List<String> terminated = new java.util.ArrayList<>();
          pools.forEach(
              p ->
                  terminated.addAll(
                      p.revoke(m.body().ids(), m.body().terminate(), m.body().signal())));
          m.reply(new JsonArray(terminated));
        });
    bus.consumer(Addresses.POOL_STATS, m -> m.reply(stats()));
    bus.consumer(
        Addresses.POOL_APP_CONF,
        m -> m.reply(runner instanceof ProcessRunner p ? p.appConf() : null));
    bus.<Double>consumer(Addresses.POOL_DRAIN, this::drain);
    bus.<Long>consumer(
        Addresses.POOL_FORGET_GENERATION,
        m -> {
          int dropped = pools.stream().mapToInt(p -> p.forgetGeneration(m.body())).sum();
          slotsFreed(dropped);
          if (dropped > 0) {
            log.warn(
                "Dropped {} reserved task(s) of the lost broker connection; the broker redelivers them",
                dropped);
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

  /**
   * Remote control answered from the pool: inspect active/reserved, pool_grow/pool_shrink,
   * autoscale.
   */
  private void controlHandlers() {
    var bus = vertx.eventBus();
    bus.consumer(
        Addresses.POOL_REQUESTS,
        m -> {
          JsonArray active = new JsonArray();
          double nowSeconds = System.currentTimeMillis() / 1000.0;
          long nowNanos = System.nanoTime();
          Long pid = ProcessHandle.current().pid();
          for (Job job : pools.stream().flatMap(p -> p.activeJobs().stream()).toList()) {
            Request r = job.request();
            double started = nowSeconds - (nowNanos - job.startNanos) / 1e9;
            active.add(io.celerity.types.RequestInfo.of(r, started, !r.acksLate(), pid));
          }
          JsonArray reserved = new JsonArray();
          pools.forEach(
              p ->
                  p.queued()
                      .forEach(
                          r ->
                              reserved.add(
                                  io.celerity.types.RequestInfo.of(r, null, false, null))));
          m.reply(new ControlRequests.PoolRequests(active, reserved));
        });
    bus.<ControlRequests.PoolResize>consumer(
        Addresses.POOL_RESIZE,
        m -> {
          boolean grow = m.body().grow();
          String cmd = grow ? "pool_grow" : "pool_shrink";
          if (autoscaler != null) {
            m.reply(
                new JsonObject()
                    .put(
                        "error",
                        cmd + " is not supported with autoscale. Adjust autoscale range instead."));
            return;
          }
          int n = m.body().n();
          resize(pool.concurrency() + (grow ? n : -n), Integer.MAX_VALUE);
          m.reply(new JsonObject().put("ok", grow ? "pool will grow" : "pool will shrink"));
        });
    bus.<ControlRequests.Autoscale>consumer(
        Addresses.POOL_AUTOSCALE,
        m -> {
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

  /**
   * Every message is contained: a request no pool takes (choosing its pool failed) ends as FAILURE
   * with the error, its message settled, and the next request is handed as usual. Failures inside a
   * pool are contained there ({@link TaskPool}).
   */
  private void apply(Request r, TaskPool.Listener listener) {
    TaskPool target;
    try {
      target = poolFor(r);
    } catch (RuntimeException e) {
      log.error(
          "Task {}: handing it to the pool failed; FAILURE is stored and the message settled",
          r.logName(),
          e);
      listener.refused(r);
      listener.finished(TaskOutcome.refused(r, io.celerity.protocol.ExceptionInfo.from(e), false));
      return;
    }
    target.submit(r);
  }

  /** The pool a request runs in: async tasks in their own, bounded apart from the pool's slots. */
  private TaskPool poolFor(Request r) {
    if (childAsyncPool != null && ((ProcessRunner) runner).runsAsync(r.message().task())) {
      return childAsyncPool;
    }
    return r.task().async() ? asyncPool : pool;
  }

  /** pool_grow / pool_shrink: the new slot count, between 1 and the configured maximum. */
  private int resize(int wanted, int max) {
    pool.resize(Math.max(1, Math.min(max, wanted)));
    if (childAsyncPool != null) {
      childAsyncPool.resize(pool.concurrency() * childAsyncConcurrency);
    }
    return pool.concurrency();
  }

  /**
   * Celery's Task.retry, worker side: publish the copy, then store RETRY; the original is settled
   * as usual.
   */
  /**
   * With {@code disable_prefetch} the consumer takes messages only while slots are free: tell it
   * when they free up.
   */
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
    java.util.Map<String, Long> totals = new java.util.TreeMap<>();
    pools.forEach(p -> p.totals().forEach((name, n) -> totals.merge(name, n, Long::sum)));
    JsonObject async =
        new JsonObject()
            .put("max-concurrency", asyncPool.concurrency())
            .put("active", asyncPool.activeCount())
            .put("reserved", asyncPool.queuedCount())
            .put("abandoned", asyncPool.abandoned())
            .put("blocked_loop_reports", asyncRunner.blockedReports());
    JsonObject childAsync =
        childAsyncPool == null
            ? null
            : new JsonObject()
                .put("max-concurrency", childAsyncPool.concurrency())
                .put("active", childAsyncPool.activeCount())
                .put("reserved", childAsyncPool.queuedCount());
    return new PoolStats(
        pool.concurrency(),
        pools.stream().mapToInt(TaskPool::activeCount).sum(),
        pools.stream().mapToInt(TaskPool::queuedCount).sum(),
        pools.stream().mapToLong(TaskPool::processed).sum(),
        new java.util.LinkedHashMap<>(totals),
        pool.abandoned(),
        pool.heldSlots(),
        runner instanceof ProcessRunner p ? p.stats() : null,
        async,
        childAsync);
  }

  /**
   * Warm shutdown: queued requests go back to the broker; running ones may finish within the
   * timeout.
   */
  private void drain(Message<Double> m) {
    for (TaskPool p : pools) {
      for (Request r : p.takeQueued()) {
        vertx.eventBus().send(Addresses.CONSUMER_SETTLE, Settle.requeue(r.delivery()));
      }
    }
    Future.all(pools.stream().map(TaskPool::whenIdle).toList())
        .timeout((long) (m.body() * 1000), java.util.concurrent.TimeUnit.MILLISECONDS)
        .onComplete(
            ar -> {
              // A pool turns idle once its last outcome is reported (TaskPool); the outcomes still
              // batched for this turn must reach the result-reader before the worker asks it to
              // flush, or the worker exits without them stored.
              outcomes.flush();
              int running = pools.stream().mapToInt(p -> p.activeCount() + p.startingCount()).sum();
              if (running > 0) {
                log.warn("Shutdown timeout reached with {} task(s) still running", running);
              }
              m.reply(running);
            });
  }

  @Override
  public Future<?> stop() {
    pool.shutdownNow();
    asyncPool.shutdownNow();
    return Future.succeededFuture();
  }
}

package io.celerity.metrics;

import io.celerity.types.ConsumerStats;
import io.celerity.types.HeartbeatStatus;
import io.celerity.types.PoolStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The worker's Prometheus metrics (one instance per Vert.x instance). When Vert.x runs with
 * vertx-micrometer-metrics under {@link #REGISTRY_NAME} (the CLI does), the worker's meters join
 * Vert.x's own (event bus, HTTP server, pools); otherwise they get a registry of their own.
 *
 * <p>Per-task meters are created once per task name and then found with one map read, so the hot
 * path costs a lookup and an increment. Gauges (pool busy/idle, prefetch, scheduled, reconnects,
 * event-loop lag) are not touched on the hot path at all: they are refreshed from the verticles'
 * stats just before a scrape ({@link #update}).
 */
public final class WorkerMetrics implements Shareable {

  /** Name of the vertx-micrometer-metrics registry the CLI sets up. */
  public static final String REGISTRY_NAME = "celerity";

  private static final String KEY = "celerity.metrics";

  private final PrometheusMeterRegistry registry;
  private final ConcurrentHashMap<String, TaskMeters> tasks = new ConcurrentHashMap<>();
  private final AtomicLong busy = new AtomicLong();
  private final AtomicLong idle = new AtomicLong();
  private final AtomicLong reserved = new AtomicLong();
  private final AtomicLong prefetchCount = new AtomicLong();
  private final AtomicLong scheduled = new AtomicLong();
  private final AtomicLong reconnects = new AtomicLong();
  private final AtomicLong loopLagMs = new AtomicLong();
  private final AtomicLong connected = new AtomicLong();
  private final AtomicLong unsettledStuck = new AtomicLong();
  private final Counter contained;
  private final AtomicLong abandonedThreads = new AtomicLong();
  private final AtomicLong resultBackendUp = new AtomicLong(1);
  private final Counter resultWriteRetries;
  private final Counter resultWriteFailures;

  /** Extra turnaround buckets: 50 us to 0.5 ms in steps of 50 us. */
  static final Duration[] TURNAROUND_FINE =
      java.util.stream.IntStream.rangeClosed(1, 10)
          .mapToObj(i -> Duration.ofNanos(i * 50_000L))
          .toArray(Duration[]::new);

  /** Meters of one task name. */
  public static final class TaskMeters {
    final Counter received;
    final Counter succeeded;
    final Counter failed;
    final Counter retried;
    final Counter revoked;
    final Timer runtime;
    final Timer queueWait;
    final Timer turnaround;

    TaskMeters(MeterRegistry r, String task) {
      received =
          Counter.builder("celery_tasks_received")
              .tag("task", task)
              .description("Task messages accepted by the worker")
              .register(r);
      succeeded = Counter.builder("celery_tasks_succeeded").tag("task", task).register(r);
      failed = Counter.builder("celery_tasks_failed").tag("task", task).register(r);
      retried = Counter.builder("celery_tasks_retried").tag("task", task).register(r);
      revoked = Counter.builder("celery_tasks_revoked").tag("task", task).register(r);
      runtime =
          Timer.builder("celery_task_runtime")
              .tag("task", task)
              .description("Time a task ran")
              .publishPercentileHistogram()
              .minimumExpectedValue(Duration.ofMillis(1))
              .maximumExpectedValue(Duration.ofHours(1))
              .register(r);
      queueWait =
          Timer.builder("celery_task_queue_wait")
              .tag("task", task)
              .description("Time from receipt to start (ETA, rate limit and pool waits included)")
              .publishPercentileHistogram()
              .minimumExpectedValue(Duration.ofMillis(1))
              .maximumExpectedValue(Duration.ofHours(1))
              .register(r);
      turnaround =
          Timer.builder("celerity_task_turnaround")
              .tag("task", task)
              .description(
                  "The worker's own share of a task: from receipt to its outcome stored (and, with acks_late, "
                      + "its message settled)")
              .publishPercentileHistogram()
              // the generated buckets jump 0.26 -> 0.35 -> 0.44 ms around a short task's share:
              // fixed ones every 50 us up to 0.5 ms tell 0.3 ms from 0.35
              .serviceLevelObjectives(TURNAROUND_FINE)
              .minimumExpectedValue(Duration.ofNanos(50_000))
              .maximumExpectedValue(Duration.ofHours(1))
              .register(r);
    }
  }

  private WorkerMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("celerity_pool_busy", busy, AtomicLong::get)
        .description("Pool slots running a task")
        .register(registry);
    Gauge.builder("celerity_pool_idle", idle, AtomicLong::get)
        .description("Pool slots free")
        .register(registry);
    Gauge.builder("celerity_pool_reserved", reserved, AtomicLong::get)
        .description("Requests waiting for a pool slot")
        .register(registry);
    Gauge.builder("celerity_prefetch_count", prefetchCount, AtomicLong::get)
        .description("Current broker prefetch count (raised for held ETA/rate-limited tasks)")
        .register(registry);
    Gauge.builder("celerity_scheduled", scheduled, AtomicLong::get)
        .description("Tasks held until their ETA")
        .register(registry);
    FunctionCounter.builder("celerity_broker_reconnects", reconnects, AtomicLong::get)
        .description("Broker connections re-established after a loss")
        .register(registry);
    Gauge.builder("celerity_broker_connected", connected, AtomicLong::get).register(registry);
    Gauge.builder("celerity_unsettled_stuck", unsettledStuck, AtomicLong::get)
        .description(
            "Deliveries unsettled past unsettled_deadline that no part of the worker holds")
        .register(registry);
    contained =
        Counter.builder("celerity_messages_contained")
            .description(
                "Messages whose handling failed unexpectedly and that were rejected (FAILURE stored when they had an id)")
            .register(registry);
    Gauge.builder("celerity_event_loop_lag", loopLagMs, v -> v.get() / 1000.0)
        .baseUnit("seconds")
        .description("Recent event-loop lag seen by the heartbeat verticle")
        .register(registry);
    Gauge.builder("celerity_pool_abandoned_threads", abandonedThreads, AtomicLong::get)
        .description("Task bodies given up at their hard time limit that still hold a pool thread")
        .register(registry);
    Gauge.builder("celerity_result_backend_up", resultBackendUp, AtomicLong::get)
        .description(
            "1 while result writes go through, 0 while they fail (being retried or given up)")
        .register(registry);
    resultWriteRetries =
        Counter.builder("celerity_result_write_retries")
            .description("Result writes tried again after the backend failed")
            .register(registry);
    resultWriteFailures =
        Counter.builder("celerity_result_write_failures")
            .description("Result writes given up after the retries (the result is not stored)")
            .register(registry);
    bindJvmMeters(registry);
  }

  /**
   * Micrometer's JVM and process meters: memory pools, GC pauses, threads, class loading, CPU, open
   * file descriptors, uptime. Once per registry (several workers of one JVM may share Vert.x's): a
   * second binding would only re-register the same gauges.
   */
  static void bindJvmMeters(MeterRegistry registry) {
    synchronized (registry) {
      if (registry.find("jvm.memory.used").meter() != null) {
        return;
      }
      new io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics().bindTo(registry);
      new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(registry);
      new io.micrometer.core.instrument.binder.jvm.JvmGcMetrics()
          .bindTo(registry); // lives as long as the JVM
      new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(registry);
      new io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics().bindTo(registry);
      new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(registry);
      new io.micrometer.core.instrument.binder.system.FileDescriptorMetrics().bindTo(registry);
      new io.micrometer.core.instrument.binder.system.UptimeMetrics().bindTo(registry);
    }
  }

  /** A result write failed and is tried again. */
  public void resultWriteRetried() {
    resultWriteRetries.increment();
  }

  /** A result write was given up. */
  public void resultWriteFailed() {
    resultWriteFailures.increment();
  }

  /** Whether result writes currently go through. */
  public void resultBackendUp(boolean up) {
    resultBackendUp.set(up ? 1 : 0);
  }

  /**
   * Task bodies abandoned at their hard time limit that still hold a thread (the thread pool sets
   * it).
   */
  public void abandonedThreads(long n) {
    abandonedThreads.set(n);
  }

  /**
   * Vert.x's own meters in the registry {@code GET /metrics} scrapes, except the per-message ones
   * (event bus, client sockets, worker pools): measured, they cost about 5% of throughput.
   */
  public static io.vertx.micrometer.MicrometerMetricsOptions vertxMetricsOptions() {
    return new io.vertx.micrometer.MicrometerMetricsOptions()
        .setEnabled(true)
        .addDisabledMetricsCategory(io.vertx.micrometer.MetricsDomain.EVENT_BUS)
        .addDisabledMetricsCategory(io.vertx.micrometer.MetricsDomain.NET_CLIENT)
        .addDisabledMetricsCategory(io.vertx.micrometer.MetricsDomain.NAMED_POOLS)
        .setRegistryName(REGISTRY_NAME)
        .setPrometheusOptions(new io.vertx.micrometer.VertxPrometheusOptions().setEnabled(true));
  }

  /** The worker's metrics in {@code vertx} (created on first use). */
  public static WorkerMetrics of(Vertx vertx) {
    var map = vertx.sharedData().<String, WorkerMetrics>getLocalMap(KEY);
    WorkerMetrics existing = map.get(KEY);
    if (existing != null) {
      return existing;
    }
    WorkerMetrics mine = new WorkerMetrics(newRegistry());
    WorkerMetrics prior = map.putIfAbsent(KEY, mine);
    return prior != null ? prior : mine;
  }

  private static PrometheusMeterRegistry newRegistry() {
    MeterRegistry vertxRegistry = BackendRegistries.getNow(REGISTRY_NAME);
    return vertxRegistry instanceof PrometheusMeterRegistry p
        ? p
        : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The meters of {@code task}: one map read once they exist. */
  public TaskMeters task(String task) {
    TaskMeters m = tasks.get(task);
    return m != null ? m : tasks.computeIfAbsent(task, t -> new TaskMeters(registry, t));
  }

  public void received(String task) {
    task(task).received.increment();
  }

  /** A request started {@code waitNanos} after it was received. */
  public void started(String task, long waitNanos) {
    task(task).queueWait.record(waitNanos, TimeUnit.NANOSECONDS);
  }

  /** A request's outcome was stored {@code nanos} after the request was received. */
  public void turnaround(String task, long nanos) {
    task(task).turnaround.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A request ended in Celery state {@code state} after running {@code runtimeSeconds}. */
  public void finished(String task, String state, double runtimeSeconds, boolean ran) {
    TaskMeters m = task(task);
    switch (state) {
      case "SUCCESS" -> m.succeeded.increment();
      case "RETRY" -> m.retried.increment();
      case "REVOKED" -> m.revoked.increment();
      default -> m.failed.increment();
    }
    if (ran) {
      m.runtime.record((long) (runtimeSeconds * 1e9), TimeUnit.NANOSECONDS);
    }
  }

  /** A message whose handling failed unexpectedly was settled on its own. */
  public void containedFailure() {
    contained.increment();
  }

  /** Deliveries the watchdog found unsettled with nothing holding them. */
  public void unsettledStuck(int n) {
    unsettledStuck.set(n);
  }

  /** Refreshes the gauges from the pool, consumer and heartbeat stats (each may be null). */
  public void update(PoolStats pool, ConsumerStats consumer, HeartbeatStatus heartbeat) {
    if (pool != null) {
      busy.set(pool.active());
      idle.set(Math.max(0, pool.maxConcurrency() - pool.active()));
      reserved.set(pool.reserved());
      abandonedThreads.set(pool.abandonedThreads());
    }
    if (consumer != null) {
      prefetchCount.set(consumer.prefetchCount());
      scheduled.set(consumer.etaHeld());
      reconnects.set(consumer.reconnects());
      connected.set(consumer.connected() ? 1 : 0);
    }
    if (heartbeat != null) {
      loopLagMs.set(heartbeat.eventLoopLagMs());
    }
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }
}

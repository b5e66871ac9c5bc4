package io.celerity.cli;

import ch.qos.logback.classic.Level;
import io.celerity.Addresses;
import io.celerity.WorkerVerticle;
import io.celerity.config.ConfigLoader;
import io.celerity.config.WorkerOptions;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** {@code celerity worker ...}: the command line, with {@code celery worker}'s flag names. */
@Command(name = "celerity", mixinStandardHelpOptions = true, version = "celerity 0.1.0",
  description = "A Celery-compatible task worker on Vert.x.", subcommands = {Main.Worker.class})
public class Main implements Runnable {

  public static void main(String[] args) {
    int code = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  /** Starts a worker; flags win over {@code CELERITY_*} variables, which win over the config file. */
  @Command(name = "worker", mixinStandardHelpOptions = true, description = "Start a worker.")
  public static class Worker implements Callable<Integer> {

    @Option(names = {"-b", "--broker"}, description = "Broker URL (amqp://..., memory://). Default memory://")
    String broker;
    @Option(names = "--result-backend", description = "Result backend URL (redis://..., memory://, disabled)")
    String resultBackend;
    @Option(names = {"-Q", "--queues"}, split = ",", description = "Queues to consume, comma-separated. Default celery")
    List<String> queues;
    @Option(names = {"-c", "--concurrency"}, description = "Number of pool slots. Default: number of CPUs")
    Integer concurrency;
    @Option(names = {"-P", "--pool"}, description = "Pool: threads, solo, virtual (Java 21+), process")
    String pool;
    @Option(names = {"-n", "--hostname"}, description = "Node name, e.g. w1@%%h. Default celery@<host>")
    String hostname;
    @Option(names = "--prefetch-multiplier", description = "Prefetch = concurrency x this. Default 4")
    Integer prefetchMultiplier;
    @Option(names = {"-l", "--loglevel"}, description = "DEBUG, INFO, WARNING, ERROR, CRITICAL")
    String loglevel;
    @Option(names = "--time-limit", description = "Hard time limit in seconds")
    Double timeLimit;
    @Option(names = "--soft-time-limit", description = "Soft time limit in seconds")
    Double softTimeLimit;
    @Option(names = {"-E", "--task-events"}, description = "Send task events")
    Boolean taskEvents;
    @Option(names = {"-A", "--app"}, description = "Class with @Task methods or a TaskModule; repeatable")
    List<String> apps;
    @Option(names = "--config", description = "JSON config file. Default conf/worker.json if present")
    Path config;
    @Option(names = "--http-port", description = "HTTP bridge port. Default 8080 (0 = any free port)")
    Integer httpPort;
    @Option(names = "--http-host", description = "HTTP bridge address. Default 127.0.0.1")
    String httpHost;
    @Option(names = "--shutdown-timeout", description = "Seconds a warm shutdown waits for running tasks. Default 60")
    Double shutdownTimeout;
    @Option(names = "--without-examples", description = "Do not load the examples.* tasks")
    Boolean withoutExamples;
    @Option(names = {"-S", "--statedb"}, description = "File keeping revoked task ids across restarts")
    String statedb;
    @Option(names = "--disable-prefetch", description = "Take a message from the broker only when a pool slot is free")
    Boolean disablePrefetch;
    @Option(names = "-O", description = "Optimization profile: default or fair (our pool always hands work to free slots only)")
    String optimization;
    @Option(names = "--child", description = "-P process: command starting a child, e.g. 'python3 -m celerity_child proj.tasks'. Default: Java children")
    String childCommand;
    @Option(names = "--max-tasks-per-child", description = "-P process: replace a child after this many tasks")
    Integer maxTasksPerChild;
    @Option(names = "--max-memory-per-child", description = "-P process: replace a child whose resident memory exceeds this many KiB")
    Long maxMemoryPerChild;
    @Option(names = "--autoscale", description = "MAX,MIN: grow the pool up to MAX slots under load, shrink down to MIN")
    String autoscale;

    JsonObject flags() {
      JsonObject f = new JsonObject();
      put(f, "broker", broker);
      put(f, "result_backend", resultBackend);
      put(f, "queues", queues == null ? null : new JsonArray(queues));
      put(f, "concurrency", concurrency);
      put(f, "pool", pool);
      put(f, "hostname", hostname);
      put(f, "prefetch_multiplier", prefetchMultiplier);
      put(f, "loglevel", loglevel);
      put(f, "time_limit", timeLimit);
      put(f, "soft_time_limit", softTimeLimit);
      put(f, "task_events", taskEvents);
      put(f, "app", apps == null ? null : new JsonArray(apps));
      put(f, "http_port", httpPort);
      put(f, "http_host", httpHost);
      put(f, "shutdown_timeout", shutdownTimeout);
      put(f, "load_examples", withoutExamples == null ? null : !withoutExamples);
      put(f, "statedb", statedb);
      put(f, "disable_prefetch", disablePrefetch);
      put(f, "child_command", childCommand);
      put(f, "max_tasks_per_child", maxTasksPerChild);
      put(f, "max_memory_per_child", maxMemoryPerChild);
      put(f, "autoscale", autoscale);
      return f;
    }

    private static void put(JsonObject o, String key, Object value) {
      if (value != null) {
        o.put(key, value);
      }
    }

    @Override
    public Integer call() throws Exception {
      JsonObject conf = ConfigLoader.load(config != null ? config : ConfigLoader.DEFAULT_CONFIG_FILE, config != null,
        System.getenv(), flags());
      if (optimization != null && !optimization.equals("fair") && !optimization.equals("default")) {
        System.err.println("celerity: -O takes 'default' or 'fair', not '" + optimization + "'");
        return 2;
      }
      WorkerOptions options;
      try {
        options = new WorkerOptions(conf);
      } catch (IllegalArgumentException e) {
        System.err.println("celerity: " + e.getMessage());
        return 2;
      }
      setLogLevel(options.getLoglevel());
      // Vert.x's own meters land in the registry GET /metrics scrapes, except the per-message ones
      // (event bus, client sockets, worker pools): measured, they cost about 5% of throughput.
      // One event loop per core rather than Vert.x's two: the verticles hand every task from loop
      // to loop, and fewer loops means fewer thread wake-ups per task (measured: 10-25% more tasks/s).
      Vertx vertx = Vertx.vertx(new VertxOptions().setBlockedThreadCheckInterval(1000)
        .setEventLoopPoolSize(options.getEventLoops())
        .setMetricsOptions(new io.vertx.micrometer.MicrometerMetricsOptions().setEnabled(true)
          .addDisabledMetricsCategory(io.vertx.micrometer.MetricsDomain.EVENT_BUS)
          .addDisabledMetricsCategory(io.vertx.micrometer.MetricsDomain.NET_CLIENT)
          .addDisabledMetricsCategory(io.vertx.micrometer.MetricsDomain.NAMED_POOLS)
          .setRegistryName(io.celerity.metrics.WorkerMetrics.REGISTRY_NAME)
          .setPrometheusOptions(new io.vertx.micrometer.VertxPrometheusOptions().setEnabled(true))));
      // Installed before deploying, so a SIGTERM during start-up is a warm shutdown too.
      sun.misc.SignalHandler shutdown = installSignalHandlers(vertx, options);
      // Remote control's shutdown command: the same as a first SIGTERM.
      vertx.eventBus().consumer(Addresses.WORKER_REMOTE_SHUTDOWN, m -> shutdown.handle(new sun.misc.Signal("TERM")));
      try {
        // No time limit: start-up waits for the broker as long as broker_connection_max_retries allows.
        vertx.deployVerticle(new WorkerVerticle(), new DeploymentOptions().setConfig(conf))
          .toCompletionStage().toCompletableFuture().get();
      } catch (Exception e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        if (cause instanceof io.celerity.transport.BrokerUnreachableException) {
          LoggerFactory.getLogger("celery.worker").error("Worker failed to start: {}", cause.getMessage()); // no stack trace
        } else {
          LoggerFactory.getLogger("celery.worker").error("Worker failed to start: {}",
            io.celerity.transport.ConnectionLifecycle.describe(cause), cause);
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return 1;
      }
      Thread.currentThread().join(); // the JVM exits from the signal handlers
      return 0;
    }
  }

  /**
   * First SIGTERM/SIGINT: warm shutdown (finish running tasks, then exit 0). A second one: cold
   * shutdown (close now; the broker requeues what is unacked).
   */
  static sun.misc.SignalHandler installSignalHandlers(Vertx vertx, WorkerOptions options) {
    AtomicInteger signals = new AtomicInteger();
    sun.misc.SignalHandler handler = sig -> {
      int n = signals.incrementAndGet();
      boolean warm = n == 1;
      Thread t = new Thread(() -> {
        try {
          long budget = warm ? (long) (options.getShutdownTimeout() * 1000) + 20_000 : 10_000;
          vertx.eventBus().request(Addresses.WORKER_SHUTDOWN, warm, new DeliveryOptions().setSendTimeout(budget))
            .toCompletionStage().toCompletableFuture().get(budget, TimeUnit.MILLISECONDS);
          vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
          System.err.println("celerity: shutdown did not complete cleanly: " + e);
        } finally {
          System.exit(0);
        }
      }, warm ? "celerity-warm-shutdown" : "celerity-cold-shutdown");
      t.start();
    };
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
    return handler;
  }

  /** Applies Celery's level names (WARNING, CRITICAL, FATAL) to the logback root logger. */
  static void setLogLevel(String level) {
    String l = level.toUpperCase();
    Level lvl = switch (l) {
      case "WARNING" -> Level.WARN;
      case "CRITICAL", "FATAL" -> Level.ERROR;
      default -> Level.toLevel(l, Level.INFO);
    };
    if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext ctx) {
      ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(lvl);
    }
  }
}

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
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code celerity worker ...}: the command line, with {@code celery worker}'s flag names. */
@Command(
    name = "celerity",
    mixinStandardHelpOptions = true,
    version = "celerity 0.1.0",
    description = "A Celery-compatible task worker on Vert.x.",
    subcommands = {Main.Worker.class, Call.class, Health.class, Train.class})
public class Main implements Runnable {

  public static void main(String[] args) {
    int code = commandLine().execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** The command line, with a flag for every setting that has one (see {@link SettingFlags}). */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    SettingFlags.addTo(cl.getSubcommands().get("worker").getCommandSpec());
    return cl;
  }

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  /**
   * Starts a worker; flags win over {@code CELERITY_*} variables, which win over the config file.
   */
  @Command(name = "worker", mixinStandardHelpOptions = true, description = "Start a worker.")
  public static class Worker implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(
        names = "--config",
        description = "JSON config file. Default conf/worker.json if present")
    Path config;

    @Option(
        names = "-O",
        description =
            "Optimization profile: default or fair (fair: a child process gets a task only when idle, child_pipeline false)")
    String optimization;

    // every other option is a setting's flag, added from the settings table (SettingFlags)

    @Override
    public Integer call() throws Exception {
      if (optimization != null && !optimization.equals("fair") && !optimization.equals("default")) {
        System.err.println("celerity: -O takes 'default' or 'fair', not '" + optimization + "'");
        return 2;
      }
      JsonObject conf;
      WorkerOptions options;
      try {
        conf =
            ConfigLoader.load(
                config != null ? config : ConfigLoader.DEFAULT_CONFIG_FILE,
                config != null,
                System.getenv(),
                SettingFlags.values(spec.commandLine().getParseResult()));
        if ("fair".equals(optimization)) { // Celery's fair: a child is written to only when idle
          conf.put("child_pipeline", false);
        }
        options = new WorkerOptions(conf);
      } catch (IllegalArgumentException | java.io.IOException e) {
        System.err.println("celerity: " + io.celerity.config.Urls.redact(e.getMessage()));
        return 2;
      }
      logFormat(options.getLogFormat());
      setLogLevel(options.getLoglevel());
      Vertx vertx = Vertx.vertx(vertxOptions(options));
      warnIfNoNativeTransport(vertx, options);
      // Installed before deploying, so a SIGTERM during start-up is a warm shutdown too.
      sun.misc.SignalHandler shutdown = installSignalHandlers(vertx, options);
      // Remote control's shutdown command: the same as a first SIGTERM.
      vertx
          .eventBus()
          .consumer(
              Addresses.WORKER_REMOTE_SHUTDOWN, m -> shutdown.handle(new sun.misc.Signal("TERM")));
      try {
        // No time limit: start-up waits for the broker as long as broker_connection_max_retries
        // allows.
        vertx
            .deployVerticle(new WorkerVerticle(), new DeploymentOptions().setConfig(conf))
            .toCompletionStage()
            .toCompletableFuture()
            .get();
      } catch (Exception e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        if (cause instanceof io.celerity.transport.BrokerUnreachableException
            || cause instanceof io.celerity.config.SettingException) {
          LoggerFactory.getLogger("celery.worker")
              .error("Worker failed to start: {}", cause.getMessage()); // no stack trace
        } else {
          LoggerFactory.getLogger("celery.worker")
              .error(
                  "Worker failed to start: {}",
                  io.celerity.transport.ConnectionLifecycle.describe(cause),
                  cause);
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return 1;
      }
      Thread.currentThread().join(); // the JVM exits from the signal handlers
      return 0;
    }
  }

  /**
   * The worker's Vert.x (also {@code celerity train}'s). Vert.x's own meters land in the registry
   * GET /metrics scrapes, except the per-message ones (event bus, client sockets, worker pools):
   * measured, they cost about 5% of throughput. One event loop per core rather than Vert.x's two:
   * the verticles hand every task from loop to loop, and fewer loops means fewer thread wake-ups
   * per task (measured: 10-25% more tasks/s). Netty's epoll transport where it loads: Netty 4.2's
   * NIO loop wakes itself a second time after every wake-up from another thread (an eventfd write,
   * an epoll_wait and a read more per hand-off), epoll does not.
   */
  static VertxOptions vertxOptions(WorkerOptions options) {
    return new VertxOptions()
        .setBlockedThreadCheckInterval(1000)
        .setPreferNativeTransport(options.isNativeTransport())
        .setEventLoopPoolSize(options.getEventLoops())
        .setMetricsOptions(io.celerity.metrics.WorkerMetrics.vertxMetricsOptions());
  }

  static void warnIfNoNativeTransport(Vertx vertx, WorkerOptions options) {
    if (options.isNativeTransport() && !vertx.isNativeTransportEnabled()) {
      Throwable cause = vertx.unavailableNativeTransportCause();
      LoggerFactory.getLogger("celery.worker")
          .warn(
              "native_transport: Netty's epoll transport is not available here ({}); the event loops use Java's NIO"
                  + " selector",
              cause == null ? "unknown reason" : cause.toString());
    }
  }

  /**
   * First SIGTERM/SIGINT: warm shutdown (finish running tasks, then exit 0). A second one: cold
   * shutdown (close now; the broker requeues what is unacked).
   */
  static sun.misc.SignalHandler installSignalHandlers(Vertx vertx, WorkerOptions options) {
    AtomicInteger signals = new AtomicInteger();
    sun.misc.SignalHandler handler =
        sig -> {
          int n = signals.incrementAndGet();
          boolean warm = n == 1;
          Thread t =
              new Thread(
                  () -> {
                    try {
                      long budget =
                          warm ? (long) (options.getShutdownTimeout() * 1000) + 20_000 : 10_000;
                      stopWorker(vertx, warm, budget);
                      vertx
                          .close()
                          .toCompletionStage()
                          .toCompletableFuture()
                          .get(10, TimeUnit.SECONDS);
                    } catch (Exception e) {
                      System.err.println("celerity: shutdown did not complete cleanly: " + e);
                    } finally {
                      System.exit(0);
                    }
                  },
                  warm ? "celerity-warm-shutdown" : "celerity-cold-shutdown");
          t.start();
        };
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
    return handler;
  }

  /**
   * Asks the worker verticle for a warm ({@code true}) or cold shutdown and waits for it, at most
   * {@code budgetMs}. Blocks: call it from a thread of its own, never from an event loop.
   */
  static void stopWorker(Vertx vertx, boolean warm, long budgetMs) throws Exception {
    vertx
        .eventBus()
        .request(Addresses.WORKER_SHUTDOWN, warm, new DeliveryOptions().setSendTimeout(budgetMs))
        .toCompletionStage()
        .toCompletableFuture()
        .get(budgetMs, TimeUnit.MILLISECONDS);
  }

  /**
   * {@code log_format}: logback was configured before the settings were read (from the {@code
   * CELERITY_LOG_FORMAT} variable, if any); another format from the config file or a flag
   * configures it again.
   */
  static void logFormat(String format) {
    String current =
        System.getProperty(
            "celerity.log.format", System.getenv().getOrDefault("CELERITY_LOG_FORMAT", "text"));
    if (current.equals(format)) {
      return;
    }
    System.setProperty("celerity.log.format", format);
    if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext ctx) {
      ctx.reset();
      try {
        new ch.qos.logback.classic.util.ContextInitializer(ctx).autoConfig();
      } catch (ch.qos.logback.core.joran.spi.JoranException e) {
        System.err.println("celerity: cannot configure logging: " + e.getMessage());
      }
    }
  }

  /** Applies Celery's level names (WARNING, CRITICAL, FATAL) to the logback root logger. */
  static void setLogLevel(String level) {
    String l = level.toUpperCase();
    Level lvl =
        switch (l) {
          case "WARNING" -> Level.WARN;
          case "CRITICAL", "FATAL" -> Level.ERROR;
          default -> Level.toLevel(l, Level.INFO);
        };
    if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext ctx) {
      ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(lvl);
    }
  }
}

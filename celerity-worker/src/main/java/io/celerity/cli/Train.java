package io.celerity.cli;

import io.celerity.Addresses;
import io.celerity.WorkerVerticle;
import io.celerity.client.CelerityClient;
import io.celerity.client.ClientOptions;
import io.celerity.config.WorkerOptions;
import io.celerity.transport.memory.MemoryBroker;
import io.celerity.types.PoolStats;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code celerity train}: a worker on the in-JVM broker drains {@code --tasks} {@code examples.add}
 * with each pool of {@code --pool} in turn, and exits. Run under {@code -XX:AOTCacheOutput=...}
 * (Java 25) or {@code -XX:ArchiveClassesAtExit=...} (17) where no broker is at hand, e.g. while
 * building an image: the cache then holds the classes and, on 25, the method profiles of the
 * worker's task path rather than of start-up alone, and a worker started with it reaches compiled
 * code sooner.
 *
 * <p>The process pool's drain uses Java children: the parent's side (frames, replies, results) is
 * the same code whatever language the children run. A parent of Python children used 0-5% less CPU
 * warming up with this cache than with a threads-only one; a cache written by a real worker after a
 * drain on RabbitMQ with Redis results did ~12% better still (bench/README.md).
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description =
        "Drain N examples.add on the in-JVM broker with each pool, then exit (a training run for an AOT cache or CDS archive).")
public class Train implements Callable<Integer> {

  static final String BROKER = "memory://celerity-train";
  static final String QUEUE = ClientOptions.DEFAULT_QUEUE;
  static final int DEFAULT_TASKS = 100_000;
  static final long DEFAULT_TIMEOUT_SECONDS = 300;

  /**
   * Children of the process pool's drain: the parent's code per task is the same for any number,
   * and each Java child is a JVM of its own.
   */
  static final int PROCESS_CHILDREN = 2;

  @Option(names = "--tasks", description = "Tasks to drain. Default " + DEFAULT_TASKS)
  int tasks = DEFAULT_TASKS;

  @Option(
      names = {"-c", "--concurrency"},
      description = "Pool threads, as for the worker. Default 8")
  int concurrency = 8;

  @Option(
      names = {"-P", "--pool"},
      split = ",",
      description =
          "Pools to drain with, one after the other: threads, process (Java children). Default threads,process")
  List<String> pools = List.of("threads", "process");

  @Option(
      names = "--timeout",
      description = "Seconds after which the run gives up. Default " + DEFAULT_TIMEOUT_SECONDS)
  long timeout = DEFAULT_TIMEOUT_SECONDS;

  @Override
  public Integer call() throws Exception {
    if (tasks < 1 || concurrency < 1) {
      System.err.println("celerity train: --tasks and --concurrency must be at least 1");
      return Call.USAGE;
    }
    for (String pool : pools) {
      if (!pool.equals("threads") && !pool.equals("process")) {
        System.err.println("celerity train: --pool takes threads and process, not " + pool);
        return Call.USAGE;
      }
    }
    Main.setLogLevel("WARNING");
    for (String pool : pools) {
      int code = drain(pool);
      if (code != 0) {
        return code;
      }
    }
    return 0;
  }

  private int drain(String pool) throws Exception {
    long started = System.nanoTime();
    // the queue full before the worker starts, as for a worker deployed onto a backlog
    MemoryBroker.named(BROKER.substring("memory://".length())).declare(QUEUE);
    try (CelerityClient client = CelerityClient.connect(BROKER, "disabled")) {
      List<Future<?>> sent = new ArrayList<>(tasks);
      for (int i = 0; i < tasks; i++) {
        sent.add(client.sendAsync("examples.add", List.of(i, 1), Map.of(), null));
      }
      Future.all(sent).toCompletionStage().toCompletableFuture().get(timeout, TimeUnit.SECONDS);
    }
    JsonObject conf =
        new JsonObject()
            .put("broker", BROKER)
            .put("result_backend", "memory://")
            .put("pool", pool)
            .put(
                "concurrency",
                pool.equals("process") ? Math.min(concurrency, PROCESS_CHILDREN) : concurrency)
            .put("queues", QUEUE)
            .put("http_port", 0)
            // a token of its own, so the bridge does not print one it made up
            .put("http_token", UUID.randomUUID().toString())
            .put("loglevel", "WARNING");
    Vertx vertx = Vertx.vertx(Main.vertxOptions(new WorkerOptions(conf)));
    try {
      vertx
          .deployVerticle(new WorkerVerticle(), new DeploymentOptions().setConfig(conf))
          .toCompletionStage()
          .toCompletableFuture()
          .get(timeout, TimeUnit.SECONDS);
      long deadline = started + TimeUnit.SECONDS.toNanos(timeout);
      long done;
      while ((done = processed(vertx)) < tasks) {
        if (System.nanoTime() > deadline) {
          System.err.printf(
              "celerity train: %d of %d tasks done in %d s (%s)%n", done, tasks, timeout, pool);
          return 1;
        }
        Thread.sleep(100); // a poll of the pool's counter, not a synchronisation
      }
      System.err.printf(
          "celerity train: %d tasks in %.1f s (%s)%n",
          tasks, (System.nanoTime() - started) / 1e9, pool);
      return 0;
    } finally {
      // a warm shutdown first, as on SIGTERM: closing Vert.x under a running worker drops the
      // messages its verticles still send to each other (logged as discarded)
      try {
        Main.stopWorker(vertx, true, 30_000);
      } catch (ExecutionException | TimeoutException e) {
        // no worker deployed (its failure is what propagates), or it did not stop in time
        System.err.println("celerity train: warm shutdown: " + e);
      }
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static long processed(Vertx vertx) throws Exception {
    PoolStats stats =
        vertx
            .eventBus()
            .<PoolStats>request(Addresses.POOL_STATS, null)
            .map(m -> m.body())
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return stats.total().getOrDefault("examples.add", 0L);
  }
}

package io.celerity.control;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The worker's state as the control plane sees it, asked of the other verticles over the event
 * bus: Celery's {@code stats}, liveness and readiness. Shared by the remote-control commands and
 * the HTTP bridge.
 */
final class WorkerStatus {

  private static final long ASK_TIMEOUT_MS = 2000;

  private final Vertx vertx;
  private final WorkerOptions options;
  private final LongSupplier clock;
  private final long startMillis = System.currentTimeMillis();

  /** @param clock the pidbox's Lamport clock */
  WorkerStatus(Vertx vertx, WorkerOptions options, LongSupplier clock) {
    this.vertx = vertx;
    this.options = options;
    this.clock = clock;
  }

  <T> Future<T> ask(String address, Object body) {
    return vertx.eventBus().<T>request(address, body, new DeliveryOptions().setSendTimeout(ASK_TIMEOUT_MS))
      .map(Message::body);
  }

  <T> Future<T> ask(String address) {
    return ask(address, null);
  }

  /** A readiness answer: the JSON body and whether the worker is ready. */
  record Readiness(boolean ready, JsonObject body) {
  }

  /**
   * Ready: connected to the broker, the pool answers, the result backend takes writes (its last
   * writes went through and it answers a round trip; a worker whose results cannot be stored is
   * not ready, acks_late messages would only go round), and no delivery is stuck unsettled.
   */
  Future<Readiness> readiness() {
    Future<JsonObject> consumer = ask(Addresses.CONSUMER_STATS);
    Future<JsonObject> pool = ask(Addresses.POOL_STATS);
    Future<JsonObject> results = ask(Addresses.RESULT_HEALTH);
    return Future.join(consumer, pool, results).transform(ar -> {
      boolean connected = consumer.succeeded() && consumer.result().getBoolean("connected", false);
      boolean backendUp = results.succeeded() && results.result().getBoolean("up", false);
      // deliveries lost inside the worker hold prefetch slots for good: not ready
      int stuck = consumer.succeeded() ? consumer.result().getInteger("unsettled_stuck", 0) : 0;
      boolean ready = connected && pool.succeeded() && backendUp && stuck == 0;
      JsonObject backend = results.succeeded() ? results.result()
        : new JsonObject().put("up", false).put("error", String.valueOf(results.cause().getMessage()));
      JsonObject body = new JsonObject().put("status", ready ? "READY" : "NOT_READY")
        .put("broker_connected", connected).put("pool", pool.succeeded()).put("result_backend", backend)
        .put("unsettled_stuck", stuck);
      return Future.succeededFuture(new Readiness(ready, body));
    });
  }

  /** Celery's {@code inspect stats} value for this worker. */
  Future<JsonObject> stats() {
    Future<JsonObject> consumer = ask(Addresses.CONSUMER_STATS);
    Future<JsonObject> pool = ask(Addresses.POOL_STATS);
    Future<JsonObject> results = ask(Addresses.RESULT_STATS);
    Future<JsonObject> hb = ask(Addresses.HEARTBEAT_STATUS);
    return Future.all(consumer, pool, results, hb).map(cf -> {
      JsonObject c = consumer.result();
      JsonObject p = pool.result();
      return new JsonObject()
        .put("total", p.getJsonObject("total"))
        .put("pid", ProcessHandle.current().pid())
        .put("clock", String.valueOf(Math.max(clock.getAsLong(), hb.result().getLong("clock", 0L))))
        .put("uptime", (System.currentTimeMillis() - startMillis) / 1000)
        .put("pool", new JsonObject()
          .put("implementation", "celerity." + options.getPool())
          .put("max-concurrency", p.getInteger("max-concurrency"))
          .put("processes", new JsonArray(List.of(ProcessHandle.current().pid())))
          .put("writes", results.result())
          .put("async", p.getJsonObject("async")).put("child_async", p.getJsonObject("child_async")))
        .put("prefetch_count", c.getInteger("prefetch_count"))
        .put("broker", new JsonObject().put("url", c.getString("broker")).put("connected", c.getBoolean("connected"))
          .put("reconnects", c.getLong("reconnects")))
        .put("rusage", new JsonObject().put("maxrss_kb", rssKb()))
        .put("received", c.getLong("received"))
        .put("active", p.getInteger("active"))
        .put("reserved", p.getInteger("reserved"));
    });
  }

  private static long rssKb() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("\\D", ""));
        }
      }
    } catch (Exception ignored) {
      // not Linux
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1024;
  }
}

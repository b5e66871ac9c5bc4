package io.celerity.control;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.celerity.types.ConsumerStats;
import io.celerity.types.HeartbeatStatus;
import io.celerity.types.PoolStats;
import io.celerity.types.ResultHealth;
import io.celerity.types.ResultStats;
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
 * The worker's state as the control plane sees it, asked of the other verticles over the event bus:
 * Celery's {@code stats}, liveness and readiness. Shared by the remote-control commands and the
 * HTTP bridge.
 */
final class WorkerStatus {

  private static final long ASK_TIMEOUT_MS = 2000;

  private final Vertx vertx;
  private final WorkerOptions options;
  private final LongSupplier clock;
  private final long startMillis = System.currentTimeMillis();

  /**
   * @param clock the pidbox's Lamport clock
   */
  WorkerStatus(Vertx vertx, WorkerOptions options, LongSupplier clock) {
    this.vertx = vertx;
    this.options = options;
    this.clock = clock;
  }

  <T> Future<T> ask(String address, Object body) {
    return vertx
        .eventBus()
        .<T>request(address, body, new DeliveryOptions().setSendTimeout(ASK_TIMEOUT_MS))
        .map(Message::body);
  }

  <T> Future<T> ask(String address) {
    return ask(address, null);
  }

  /** A readiness answer: the JSON body and whether the worker is ready. */
  record Readiness(boolean ready, JsonObject body) {}

  /**
   * Ready: connected to the broker, the pool answers, the result backend takes writes (its last
   * writes went through and it answers a round trip; a worker whose results cannot be stored is not
   * ready, acks_late messages would only go round), and no delivery is stuck unsettled.
   */
  Future<Readiness> readiness() {
    Future<ConsumerStats> consumer = ask(Addresses.CONSUMER_STATS);
    Future<PoolStats> pool = ask(Addresses.POOL_STATS);
    Future<ResultHealth> results = ask(Addresses.RESULT_HEALTH);
    return Future.join(consumer, pool, results)
        .transform(
            ar -> {
              boolean connected = consumer.succeeded() && consumer.result().connected();
              ResultHealth backend =
                  results.succeeded()
                      ? results.result()
                      : ResultHealth.unknown(String.valueOf(results.cause().getMessage()));
              // deliveries lost inside the worker hold prefetch slots for good: not ready
              int stuck = consumer.succeeded() ? consumer.result().unsettledStuck() : 0;
              boolean ready = connected && pool.succeeded() && backend.up() && stuck == 0;
              JsonObject body =
                  new JsonObject()
                      .put("status", ready ? "READY" : "NOT_READY")
                      .put("broker_connected", connected)
                      .put("pool", pool.succeeded())
                      .put("result_backend", backend.toJson())
                      .put("unsettled_stuck", stuck);
              return Future.succeededFuture(new Readiness(ready, body));
            });
  }

  /** Celery's {@code inspect stats} value for this worker. */
  Future<JsonObject> stats() {
    Future<ConsumerStats> consumer = ask(Addresses.CONSUMER_STATS);
    Future<PoolStats> pool = ask(Addresses.POOL_STATS);
    Future<ResultStats> results = ask(Addresses.RESULT_STATS);
    Future<HeartbeatStatus> hb = ask(Addresses.HEARTBEAT_STATUS);
    return Future.all(consumer, pool, results, hb)
        .map(
            cf -> {
              ConsumerStats c = consumer.result();
              PoolStats p = pool.result();
              return new JsonObject()
                  .put("total", new JsonObject(new java.util.LinkedHashMap<>(p.total())))
                  .put("pid", ProcessHandle.current().pid())
                  .put("clock", String.valueOf(Math.max(clock.getAsLong(), hb.result().clock())))
                  .put("uptime", (System.currentTimeMillis() - startMillis) / 1000)
                  .put(
                      "pool",
                      new JsonObject()
                          .put("implementation", "celerity." + options.getPool())
                          .put("max-concurrency", p.maxConcurrency())
                          .put("processes", new JsonArray(List.of(ProcessHandle.current().pid())))
                          .put("writes", results.result().toJson())
                          .put("async", p.async())
                          .put("child_async", p.childAsync())
                          .put("process", p.process()))
                  .put("prefetch_count", c.prefetchCount())
                  .put(
                      "broker",
                      new JsonObject()
                          .put("url", c.broker())
                          .put("connected", c.connected())
                          .put("reconnects", c.reconnects()))
                  .put("rusage", new JsonObject().put("maxrss_kb", rssKb()))
                  .put("received", c.received())
                  .put("active", p.active())
                  .put("reserved", p.reserved());
            });
  }

  private static long rssKb() {
    try {
      for (String line :
          java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
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

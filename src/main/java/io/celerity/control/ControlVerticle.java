package io.celerity.control;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.celerity.protocol.Json;
import io.celerity.protocol.TaskMessages;
import io.celerity.transport.OutgoingMessage;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;

/**
 * The control verticle's HTTP bridge: health and readiness probes, Celery's {@code ping} and
 * {@code stats} as JSON, and Flower-compatible task endpoints to send a task and read its result.
 */
public class ControlVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.control");
  private static final long ASK_TIMEOUT_MS = 2000;

  private WorkerOptions options;
  private HttpServer server;
  private final long startMillis = System.currentTimeMillis();

  @Override
  public Future<?> start() {
    options = new WorkerOptions(config());
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create().setBodyLimit(1 << 20));
    router.get("/health").handler(this::health);
    router.get("/ready").handler(this::ready);
    router.get("/control/ping").handler(rc -> json(rc, 200, reply(new JsonObject().put("ok", "pong"))));
    router.get("/control/stats").handler(this::stats);
    router.post("/api/task/async-apply/:name").handler(this::asyncApply);
    router.get("/api/task/result/:id").handler(this::result);
    return vertx.createHttpServer().requestHandler(router).listen(options.getHttpPort(), options.getHttpHost())
      .onSuccess(s -> {
        server = s;
        log.info("HTTP bridge listening on http://{}:{}", options.getHttpHost(), s.actualPort());
      });
  }

  /** The port actually bound (useful with {@code http_port} 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  private JsonObject reply(Object body) {
    return new JsonObject().put(options.getHostname(), body);
  }

  private <T> Future<T> ask(String address) {
    return vertx.eventBus().<T>request(address, null, new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(ASK_TIMEOUT_MS))
      .map(Message::body);
  }

  /** Live: this event loop answers, and the heartbeat verticle's loop answers too. */
  private void health(RoutingContext rc) {
    this.<JsonObject>ask(Addresses.HEARTBEAT_STATUS)
      .onSuccess(hb -> json(rc, 200, new JsonObject().put("status", "UP").put("heartbeat", hb)))
      .onFailure(err -> json(rc, 503, new JsonObject().put("status", "DOWN").put("reason", err.getMessage())));
  }

  /** Ready: connected to the broker and the pool answers. */
  private void ready(RoutingContext rc) {
    Future<JsonObject> consumer = ask(Addresses.CONSUMER_STATS);
    Future<JsonObject> pool = ask(Addresses.POOL_STATS);
    Future.all(consumer, pool).onComplete(ar -> {
      boolean connected = ar.succeeded() && consumer.result().getBoolean("connected", false);
      JsonObject body = new JsonObject().put("status", connected ? "READY" : "NOT_READY")
        .put("broker_connected", connected).put("pool", pool.succeeded());
      json(rc, connected ? 200 : 503, body);
    });
  }

  private void stats(RoutingContext rc) {
    Future<JsonObject> consumer = ask(Addresses.CONSUMER_STATS);
    Future<JsonObject> pool = ask(Addresses.POOL_STATS);
    Future<JsonObject> results = ask(Addresses.RESULT_STATS);
    Future<JsonObject> hb = ask(Addresses.HEARTBEAT_STATUS);
    Future.all(consumer, pool, results, hb).onSuccess(cf -> {
      JsonObject c = consumer.result();
      JsonObject p = pool.result();
      JsonObject s = new JsonObject()
        .put("total", p.getJsonObject("total"))
        .put("pid", ProcessHandle.current().pid())
        .put("clock", String.valueOf(hb.result().getLong("clock", 0L)))
        .put("uptime", (System.currentTimeMillis() - startMillis) / 1000)
        .put("pool", new JsonObject()
          .put("implementation", "celerity." + options.getPool())
          .put("max-concurrency", p.getInteger("max-concurrency"))
          .put("processes", new JsonArray(List.of(ProcessHandle.current().pid())))
          .put("writes", results.result()))
        .put("prefetch_count", c.getInteger("prefetch_count"))
        .put("broker", new JsonObject().put("url", c.getString("broker")).put("connected", c.getBoolean("connected"))
          .put("reconnects", c.getLong("reconnects")))
        .put("rusage", new JsonObject().put("maxrss_kb", rssKb()))
        .put("received", c.getLong("received"))
        .put("active", p.getInteger("active"))
        .put("reserved", p.getInteger("reserved"));
      json(rc, 200, reply(s));
    }).onFailure(err -> json(rc, 503, new JsonObject().put("error", err.getMessage())));
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

  /** Flower's {@code POST /api/task/async-apply/<name>} with body {@code {"args": [...], "kwargs": {...}}}. */
  @SuppressWarnings("unchecked")
  private void asyncApply(RoutingContext rc) {
    List<Object> args = List.of();
    Map<String, Object> kwargs = Map.of();
    String queue = options.getQueues().get(0);
    if (rc.body().length() > 0) {
      try {
        Map<String, Object> body = (Map<String, Object>) Json.parse(rc.body().buffer().getBytes());
        args = (List<Object>) body.getOrDefault("args", List.of());
        kwargs = (Map<String, Object>) body.getOrDefault("kwargs", Map.of());
        queue = (String) body.getOrDefault("queue", queue);
      } catch (Exception e) {
        json(rc, 400, new JsonObject().put("error", "body must be {\"args\": [...], \"kwargs\": {...}}: " + e.getMessage()));
        return;
      }
    }
    OutgoingMessage m = TaskMessages.create(rc.pathParam("name"), args, kwargs, queue,
      "http@" + options.getHostname(), null, null, null);
    vertx.eventBus().request(Addresses.BROKER_PUBLISH, m)
      .onSuccess(v -> json(rc, 200, new JsonObject().put("task-id", TaskMessages.id(m)).put("state", "PENDING")))
      .onFailure(err -> json(rc, 503, new JsonObject().put("error", err.getMessage())));
  }

  /** Flower's {@code GET /api/task/result/<id>}. */
  private void result(RoutingContext rc) {
    String id = rc.pathParam("id");
    vertx.eventBus().<JsonObject>request(Addresses.RESULT_GET, id)
      .onSuccess(m -> {
        JsonObject doc = m.body();
        JsonObject out = new JsonObject().put("task-id", id)
          .put("state", doc == null ? "PENDING" : doc.getString("status"))
          .put("result", doc == null ? null : doc.getValue("result"));
        if (doc != null && doc.getValue("traceback") != null) {
          out.put("traceback", doc.getValue("traceback"));
        }
        json(rc, 200, out);
      })
      .onFailure(err -> json(rc, 503, new JsonObject().put("error", err.getMessage())));
  }

  private static void json(RoutingContext rc, int status, JsonObject body) {
    rc.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
  }
}

package io.celerity.control;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.celerity.metrics.WorkerMetrics;
import io.celerity.protocol.Json;
import io.celerity.protocol.TaskMessages;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.List;
import java.util.Map;

/**
 * The HTTP bridge: health and readiness probes, every remote-control command as JSON, Prometheus
 * metrics, and Flower-compatible task endpoints to send a task and read its result. Runs on the
 * control verticle's event loop; knows nothing of the pidbox.
 */
final class HttpBridge {

  private final Vertx vertx;
  private final WorkerOptions options;
  private final ControlCommands commands;
  private final HttpAuth auth;
  private final WorkerMetrics metrics;
  private final WorkerStatus status;
  private final FlowerApi flower;
  private final Dashboard dashboard;
  private final java.util.function.Predicate<String> knownTask;

  HttpBridge(Vertx vertx, WorkerOptions options, ControlCommands commands, HttpAuth auth, WorkerMetrics metrics,
             WorkerStatus status, FlowerApi flower, Dashboard dashboard, java.util.function.Predicate<String> knownTask) {
    this.vertx = vertx;
    this.options = options;
    this.commands = commands;
    this.auth = auth;
    this.metrics = metrics;
    this.status = status;
    this.flower = flower;
    this.dashboard = dashboard;
    this.knownTask = knownTask;
  }

  Future<HttpServer> listen() {
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create().setBodyLimit(1 << 20));
    router.get("/health").handler(this::health);
    router.get("/ready").handler(this::ready);
    router.get("/control/ping").handler(rc -> json(rc, 200, reply(new JsonObject().put("ok", "pong"))));
    router.get("/control/stats").handler(this::stats);
    router.get("/metrics").handler(this::refreshGauges)
      .handler(io.vertx.micrometer.PrometheusScrapingHandler.create(metrics.registry()));
    router.get("/control/inspect/:command").handler(rc -> httpCommand(rc, true));
    router.post("/control/inspect/:command").handler(rc -> httpCommand(rc, true));
    router.post("/control/:command").handler(rc -> httpCommand(rc, false));
    router.post("/api/task/async-apply/:name").handler(auth::requireTokenIfSet).handler(rc -> asyncApply(rc, true));
    router.post("/api/task/send-task/:name").handler(auth::requireTokenIfSet).handler(rc -> asyncApply(rc, false));
    router.get("/api/task/result/:id").handler(this::result);
    flower.reads(router);
    dashboard.reads(router);
    flower.actions(router, rc -> {
      if (auth.allowed(rc)) {
        rc.next();
      } else {
        auth.refuse(rc);
      }
    });
    FlowerApi.jsonErrors(router);
    return vertx.createHttpServer().requestHandler(router).listen(options.getHttpPort(), options.getHttpHost());
  }

  private JsonObject reply(Object body) {
    return new JsonObject().put(options.getHostname(), body);
  }

  /**
   * The HTTP form of a command: arguments from the JSON body (POST) or the query string (each
   * value JSON if it parses, else a string); the reply is keyed by node name, as {@code celery
   * inspect --json} prints it. State-changing commands need the bearer token.
   */
  private void httpCommand(RoutingContext rc, boolean inspectPath) {
    String command = rc.pathParam("command");
    if (!commands.names().contains(command)) {
      json(rc, 404, reply(new JsonObject().put("error", "KeyError('" + command + "')")));
      return;
    }
    boolean readOnly = commands.kind(command) == ControlCommands.Kind.INSPECT;
    if (inspectPath && !readOnly) {
      json(rc, 400, new JsonObject().put("error", command + " is a control command: POST /control/" + command));
      return;
    }
    if (!readOnly && !auth.allowed(rc)) {
      auth.refuse(rc);
      return;
    }
    JsonObject arguments = new JsonObject();
    try {
      if (rc.body() != null && rc.body().length() > 0) {
        arguments = rc.body().asJsonObject();
      }
      for (Map.Entry<String, String> q : rc.queryParams()) {
        arguments.put(q.getKey(), queryValue(q.getValue()));
      }
    } catch (RuntimeException e) {
      json(rc, 400, new JsonObject().put("error", "arguments must be a JSON object: " + e.getMessage()));
      return;
    }
    commands.dispatch(command, arguments).onSuccess(result -> json(rc, 200,
      reply(result == ControlCommands.NO_REPLY ? new JsonObject().put("ok", "shutting down") : result)));
  }

  private static Object queryValue(String raw) {
    try {
      return io.vertx.core.json.Json.decodeValue(raw);
    } catch (RuntimeException notJson) {
      return raw;
    }
  }

  /** Before a scrape: the gauges take the verticles' current numbers (nothing is sampled on the hot path). */
  private void refreshGauges(RoutingContext rc) {
    Future<JsonObject> pool = status.ask(Addresses.POOL_STATS);
    Future<JsonObject> consumer = status.ask(Addresses.CONSUMER_STATS);
    Future<JsonObject> hb = status.ask(Addresses.HEARTBEAT_STATUS);
    Future.join(pool, consumer, hb).onComplete(ar -> {
      metrics.update(pool.result(), consumer.result(), hb.result());
      rc.next();
    });
  }

  /** Live: this event loop answers, and the heartbeat verticle's loop answers too. */
  private void health(RoutingContext rc) {
    status.<JsonObject>ask(Addresses.HEARTBEAT_STATUS)
      .onSuccess(hb -> json(rc, 200, new JsonObject().put("status", "UP").put("heartbeat", hb)))
      .onFailure(err -> json(rc, 503, new JsonObject().put("status", "DOWN").put("reason", err.getMessage())));
  }

  /** Ready: see {@link WorkerStatus#readiness()}. */
  private void ready(RoutingContext rc) {
    status.readiness().onSuccess(r -> json(rc, r.ready() ? 200 : 503, r.body()));
  }

  private void stats(RoutingContext rc) {
    status.stats().onSuccess(s -> json(rc, 200, reply(s)))
      .onFailure(err -> json(rc, 503, new JsonObject().put("error", err.getMessage())));
  }

  /**
   * Flower's {@code POST /api/task/async-apply/<name>} with body {@code {"args": [...], "kwargs": {...}}}:
   * 404 for a task name neither registered here nor seen in the events of another worker, as Flower
   * answers for names its app does not know. {@code send-task} sends any name, as Flower's does.
   */
  @SuppressWarnings("unchecked")
  private void asyncApply(RoutingContext rc, boolean knownOnly) {
    if (knownOnly && !knownTask.test(rc.pathParam("name"))) {
      json(rc, 404, new JsonObject().put("error", "Unknown task '" + rc.pathParam("name") + "'"));
      return;
    }
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

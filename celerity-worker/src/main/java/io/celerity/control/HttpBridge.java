package io.celerity.control;

import io.celerity.Addresses;
import io.celerity.config.Setting;
import io.celerity.config.SettingException;
import io.celerity.config.Settings;
import io.celerity.config.WorkerOptions;
import io.celerity.control.HttpPolicy.Access;
import io.celerity.metrics.WorkerMetrics;
import io.celerity.protocol.Json;
import io.celerity.protocol.TaskMessages;
import io.celerity.types.ConsumerStats;
import io.celerity.types.HeartbeatStatus;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.PoolStats;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.Map;

/**
 * The HTTP bridge: health and readiness probes, every remote-control command as JSON, Prometheus
 * metrics, and Flower-compatible task endpoints to send a task and read its result. Runs on the
 * control verticle's event loop; knows nothing of the pidbox. Who may call what is {@link
 * HttpPolicy}'s: add routes with {@link #route} to declare them public or read-only, anything else
 * needs the token.
 */
final class HttpBridge {

  private final Vertx vertx;
  private final WorkerOptions options;
  private final ControlCommands commands;
  private final HttpPolicy policy;
  private final WorkerMetrics metrics;
  private final WorkerStatus status;
  private final FlowerApi flower;
  private final Dashboard dashboard;
  private final java.util.function.Predicate<String> knownTask;

  HttpBridge(
      Vertx vertx,
      WorkerOptions options,
      ControlCommands commands,
      HttpPolicy policy,
      WorkerMetrics metrics,
      WorkerStatus status,
      FlowerApi flower,
      Dashboard dashboard,
      java.util.function.Predicate<String> knownTask) {
    this.vertx = vertx;
    this.options = options;
    this.commands = commands;
    this.policy = policy;
    this.metrics = metrics;
    this.status = status;
    this.flower = flower;
    this.dashboard = dashboard;
    this.knownTask = knownTask;
  }

  Future<HttpServer> listen() {
    Router router = Router.router(vertx);
    // First, for every request, even those no route answers: a route is protected unless declared
    // below.
    router.route().handler(policy::handle);
    route(router, HttpMethod.GET, "/health", Access.PUBLIC).handler(this::health);
    route(router, HttpMethod.GET, "/ready", Access.PUBLIC).handler(this::ready);
    route(router, HttpMethod.GET, "/control/ping", Access.READ)
        .handler(rc -> json(rc, 200, reply(new JsonObject().put("ok", "pong"))));
    route(router, HttpMethod.GET, "/control/stats", Access.READ).handler(this::stats);
    route(router, HttpMethod.GET, "/metrics", Access.READ)
        .handler(this::refreshGauges)
        .handler(io.vertx.micrometer.PrometheusScrapingHandler.create(metrics.registry()));
    route(router, HttpMethod.GET, "/control/inspect/:command", Access.READ)
        .handler(rc -> httpCommand(rc, true));
    withBody(route(router, HttpMethod.POST, "/control/inspect/:command", Access.READ))
        .handler(rc -> httpCommand(rc, true));
    withBody(route(router, HttpMethod.POST, "/control/:command", Access.TOKEN))
        .handler(rc -> httpCommand(rc, false));
    withBody(route(router, HttpMethod.POST, "/api/task/async-apply/:name", Access.TOKEN))
        .handler(rc -> asyncApply(rc, true));
    withBody(route(router, HttpMethod.POST, "/api/task/send-task/:name", Access.TOKEN))
        .handler(rc -> asyncApply(rc, false));
    route(router, HttpMethod.GET, "/api/task/result/:id", Access.READ).handler(this::result);
    Routes routes = (method, path, access) -> route(router, method, path, access);
    flower.reads(routes);
    dashboard.reads(routes);
    flower.actions(routes);
    FlowerApi.jsonErrors(router);
    return vertx
        .createHttpServer()
        .requestHandler(router)
        .listen(options.getHttpPort(), options.getHttpHost())
        .recover(
            e ->
                Future.failedFuture(
                    explainListenFailure(e, options.getHttpHost(), options.getHttpPort())));
  }

  /**
   * A port already taken says which address and which setting to change, instead of a bare "Address
   * already in use".
   */
  static Throwable explainListenFailure(Throwable e, String host, int port) {
    String message = String.valueOf(e.getMessage());
    boolean inUse = message.contains("Address already in use");
    if (!(e instanceof java.net.BindException) && !inUse) {
      return e;
    }
    if (inUse) {
      message = "Address already in use"; // epoll's reads "bind(..) failed with error(-98): ..."
    }
    Setting<Integer> p = Settings.HTTP_PORT;
    return new SettingException(
        "the HTTP bridge cannot listen on "
            + host
            + ":"
            + port
            + ": "
            + message
            + "; choose another port with "
            + String.join("/", p.flags())
            + " (setting "
            + p.key()
            + ", "
            + p.env()
            + "), 0 for any free one, or stop what holds "
            + port);
  }

  /** Declares a route with what it needs (for the handlers that live in their own classes). */
  @FunctionalInterface
  interface Routes {
    Route route(HttpMethod method, String path, Access access);
  }

  /**
   * A route and what it needs. Routes added to the router without this need the token (see {@link
   * HttpPolicy}): only what is declared here as {@link Access#PUBLIC} or {@link Access#READ} is
   * open.
   */
  Route route(Router router, HttpMethod method, String path, Access access) {
    policy.declare(method, path, access);
    return router.route(method, path);
  }

  /**
   * Reads the JSON body, on routes that take one only, so after the policy has checked the token
   * and the content type; file uploads off (multipart never reaches it anyway).
   */
  static Route withBody(Route route) {
    return route.handler(BodyHandler.create(false).setBodyLimit(1 << 20));
  }

  private JsonObject reply(Object body) {
    return new JsonObject().put(options.getHostname(), body);
  }

  /**
   * The HTTP form of a command: arguments from the JSON body (POST) or the query string (each value
   * JSON if it parses, else a string); the reply is keyed by node name, as {@code celery inspect
   * --json} prints it. {@code POST /control/<command>} needs the bearer token (see {@link
   * #listen()}).
   */
  private void httpCommand(RoutingContext rc, boolean inspectPath) {
    String command = rc.pathParam("command");
    if (!commands.names().contains(command)) {
      json(rc, 404, reply(new JsonObject().put("error", "KeyError('" + command + "')")));
      return;
    }
    boolean readOnly = commands.kind(command) == ControlCommands.Kind.INSPECT;
    if (inspectPath && !readOnly) {
      json(
          rc,
          400,
          new JsonObject()
              .put("error", command + " is a control command: POST /control/" + command));
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
      json(
          rc,
          400,
          new JsonObject().put("error", "arguments must be a JSON object: " + e.getMessage()));
      return;
    }
    commands
        .dispatch(command, arguments)
        // a reply grows with what the worker holds (inspect scheduled of 100,000 held tasks is
        // tens of megabytes): encoded on a worker thread, not on the bridge's event loop
        .compose(
            result ->
                vertx.executeBlocking(
                    () ->
                        reply(
                                result == ControlCommands.NO_REPLY
                                    ? new JsonObject().put("ok", "shutting down")
                                    : result)
                            .toBuffer(),
                    false))
        .onSuccess(
            body ->
                rc.response()
                    .setStatusCode(200)
                    .putHeader("content-type", "application/json")
                    .end(body))
        .onFailure(
            err ->
                json(
                    rc,
                    500,
                    new JsonObject().put("error", "reply not encodable: " + err.getMessage())));
  }

  private static Object queryValue(String raw) {
    try {
      return io.vertx.core.json.Json.decodeValue(raw);
    } catch (RuntimeException notJson) {
      return raw;
    }
  }

  /**
   * Before a scrape: the gauges take the verticles' current numbers (nothing is sampled on the hot
   * path).
   */
  private void refreshGauges(RoutingContext rc) {
    Future<PoolStats> pool = status.ask(Addresses.POOL_STATS);
    Future<ConsumerStats> consumer = status.ask(Addresses.CONSUMER_STATS);
    Future<HeartbeatStatus> hb = status.ask(Addresses.HEARTBEAT_STATUS);
    Future.join(pool, consumer, hb)
        .onComplete(
            ar -> {
              metrics.update(pool.result(), consumer.result(), hb.result());
              rc.next();
            });
  }

  /** Live: this event loop answers, and the heartbeat verticle's loop answers too. */
  private void health(RoutingContext rc) {
    status
        .<HeartbeatStatus>ask(Addresses.HEARTBEAT_STATUS)
        .onSuccess(
            hb -> json(rc, 200, new JsonObject().put("status", "UP").put("heartbeat", hb.toJson())))
        .onFailure(
            err ->
                json(
                    rc,
                    503,
                    new JsonObject().put("status", "DOWN").put("reason", err.getMessage())));
  }

  /** Ready: see {@link WorkerStatus#readiness()}. */
  private void ready(RoutingContext rc) {
    status.readiness().onSuccess(r -> json(rc, r.ready() ? 200 : 503, r.body()));
  }

  private void stats(RoutingContext rc) {
    status
        .stats()
        .onSuccess(s -> json(rc, 200, reply(s)))
        .onFailure(err -> json(rc, 503, new JsonObject().put("error", err.getMessage())));
  }

  /**
   * Flower's {@code POST /api/task/async-apply/<name>} with body {@code {"args": [...], "kwargs":
   * {...}}}: 404 for a task name neither registered here nor seen in the events of another worker,
   * as Flower answers for names its app does not know. {@code send-task} sends any name, as
   * Flower's does.
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
        json(
            rc,
            400,
            new JsonObject()
                .put(
                    "error",
                    "body must be {\"args\": [...], \"kwargs\": {...}}: " + e.getMessage()));
        return;
      }
    }
    OutgoingMessage m =
        TaskMessages.create(
            rc.pathParam("name"),
            args,
            kwargs,
            queue,
            "http@" + options.getHostname(),
            null,
            null,
            null);
    vertx
        .eventBus()
        .request(Addresses.BROKER_PUBLISH, m)
        .onSuccess(
            v ->
                json(
                    rc,
                    200,
                    new JsonObject().put("task-id", TaskMessages.id(m)).put("state", "PENDING")))
        .onFailure(err -> json(rc, 503, new JsonObject().put("error", err.getMessage())));
  }

  /** Flower's {@code GET /api/task/result/<id>}. */
  private void result(RoutingContext rc) {
    String id = rc.pathParam("id");
    vertx
        .eventBus()
        .<JsonObject>request(Addresses.RESULT_GET, id)
        .onSuccess(
            m -> {
              JsonObject doc = m.body();
              JsonObject out =
                  new JsonObject()
                      .put("task-id", id)
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
    rc.response()
        .setStatusCode(status)
        .putHeader("content-type", "application/json")
        .end(body.encode());
  }
}

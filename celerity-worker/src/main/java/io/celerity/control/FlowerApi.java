package io.celerity.control;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.celerity.control.HttpPolicy.Access;
import io.celerity.events.ClusterState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Flower's HTTP API for the parts tools script against, with Flower's paths, parameters and field
 * names: workers, the task history kept by the {@link EventMonitor} (every worker on the broker),
 * one task's info, revoke, queue lengths. Read routes and action routes are registered apart so the
 * bridge's token rule applies to the actions.
 */
final class FlowerApi {

  private final Vertx vertx;
  private final WorkerOptions options;
  private final ControlCommands commands;
  private final WorkerStatus status;
  private final Pidbox mailbox;
  private final ClusterState state;

  FlowerApi(
      Vertx vertx,
      WorkerOptions options,
      ControlCommands commands,
      WorkerStatus status,
      Pidbox mailbox,
      ClusterState state) {
    this.vertx = vertx;
    this.options = options;
    this.commands = commands;
    this.status = status;
    this.mailbox = mailbox;
    this.state = state;
  }

  /** Routes that only read state. */
  void reads(HttpBridge.Routes routes) {
    routes.route(HttpMethod.GET, "/api/workers", Access.READ).handler(this::workers);
    routes.route(HttpMethod.GET, "/api/tasks", Access.READ).handler(this::tasks);
    routes
        .route(HttpMethod.GET, "/api/task/types", Access.READ)
        .handler(
            rc ->
                json(
                    rc,
                    200,
                    new JsonObject()
                        .put("task-types", new JsonArray(new ArrayList<>(state.taskTypes())))));
    routes.route(HttpMethod.GET, "/api/task/info/:id", Access.READ).handler(this::taskInfo);
    routes.route(HttpMethod.GET, "/api/queues/length", Access.READ).handler(this::queueLengths);
  }

  /** Routes that change state: each behind {@code requireToken}. */
  void actions(HttpBridge.Routes routes) {
    routes.route(HttpMethod.POST, "/api/task/revoke/:id", Access.TOKEN).handler(this::revoke);
    routes
        .route(HttpMethod.POST, "/api/task/rate-limit/:name", Access.TOKEN)
        .handler(
            rc ->
                workerCommand(
                    rc,
                    rc.queryParams().get("workername"),
                    "rate_limit",
                    new JsonObject()
                        .put("task_name", rc.pathParam("name"))
                        .put("rate_limit", rc.queryParams().get("ratelimit"))));
    routes
        .route(HttpMethod.POST, "/api/task/timeout/:name", Access.TOKEN)
        .handler(
            rc ->
                workerCommand(
                    rc,
                    rc.queryParams().get("workername"),
                    "time_limit",
                    new JsonObject()
                        .put("task_name", rc.pathParam("name"))
                        .put("soft", number(rc.queryParams().get("soft")))
                        .put("hard", number(rc.queryParams().get("hard")))));
    routes
        .route(HttpMethod.POST, "/api/worker/pool/grow/:worker", Access.TOKEN)
        .handler(
            rc ->
                workerCommand(
                    rc,
                    rc.pathParam("worker"),
                    "pool_grow",
                    new JsonObject().put("n", intParam(rc, "n", 1))));
    routes
        .route(HttpMethod.POST, "/api/worker/pool/shrink/:worker", Access.TOKEN)
        .handler(
            rc ->
                workerCommand(
                    rc,
                    rc.pathParam("worker"),
                    "pool_shrink",
                    new JsonObject().put("n", intParam(rc, "n", 1))));
    routes
        .route(HttpMethod.POST, "/api/worker/pool/autoscale/:worker", Access.TOKEN)
        .handler(
            rc ->
                workerCommand(
                    rc,
                    rc.pathParam("worker"),
                    "autoscale",
                    new JsonObject()
                        .put("max", intParam(rc, "max", 1))
                        .put("min", intParam(rc, "min", 1))));
  }

  /**
   * Flower's {@code GET /api/workers}: {@code {node: {stats, registered, active_queues, active,
   * reserved, scheduled, revoked, conf, timestamp}}}. This worker answers from its own commands;
   * workers known only through events carry their event fields ({@code timestamp}, {@code events}),
   * since the bridge does not broadcast inspect requests. {@code ?status=1}: {@code {node: alive}}
   * for every worker seen; {@code ?workername=}: one worker, 404 when unknown.
   */
  private void workers(RoutingContext rc) {
    double now = System.currentTimeMillis() / 1000.0;
    String only = rc.queryParams().get("workername");
    if (truthy(rc.queryParams().get("status"))) {
      JsonObject alive = new JsonObject();
      state.workers().forEach(w -> alive.put(w.hostname(), w.alive(now)));
      alive.put(options.getHostname(), true);
      json(rc, 200, alive);
      return;
    }
    String me = options.getHostname();
    if (only != null && !only.equals(me) && state.worker(only, false) == null) {
      error(rc, 404, "Unknown worker '" + only + "'");
      return;
    }
    JsonObject out = new JsonObject();
    for (ClusterState.Worker w : state.workers()) {
      if ((only == null || only.equals(w.hostname())) && !w.hostname().equals(me)) {
        Object last =
            w.view(now).get("heartbeats") instanceof List<?> h && !h.isEmpty()
                ? h.get(h.size() - 1)
                : null;
        out.put(
            w.hostname(),
            new JsonObject().put("timestamp", last).put("events", new JsonObject(w.view(now))));
      }
    }
    if (only != null && !only.equals(me)) {
      json(rc, 200, out);
      return;
    }
    List<String> inspect =
        List.of(
            "stats",
            "registered",
            "active_queues",
            "active",
            "reserved",
            "scheduled",
            "revoked",
            "conf");
    List<Future<Object>> replies = new ArrayList<>();
    inspect.forEach(c -> replies.add(commands.dispatch(c, new JsonObject())));
    Future.join(replies)
        .onComplete(
            ar -> {
              JsonObject mine = new JsonObject();
              for (int i = 0; i < inspect.size(); i++) {
                mine.put(
                    inspect.get(i), replies.get(i).succeeded() ? replies.get(i).result() : null);
              }
              mine.put("timestamp", now);
              out.put(me, mine);
              json(rc, 200, out);
            });
  }

  /**
   * Flower's {@code GET /api/tasks}: {@code {uuid: task}} newest first; limit, offset, taskname,
   * state, workername, sort_by.
   */
  private void tasks(RoutingContext rc) {
    Integer limit;
    int offset;
    try {
      String l = rc.queryParams().get("limit");
      limit = l == null || l.isEmpty() ? null : Integer.parseInt(l);
      offset =
          Math.max(
              0,
              Integer.parseInt(
                  rc.queryParams().get("offset") == null ? "0" : rc.queryParams().get("offset")));
    } catch (NumberFormatException e) {
      error(rc, 400, "limit and offset must be integers");
      return;
    }
    String sortBy = rc.queryParams().get("sort_by");
    Comparator<ClusterState.Task> order = sortBy == null ? null : comparator(sortBy);
    if (sortBy != null && order == null) {
      error(rc, 400, "sort_by takes name, state, received or started (prefix - to reverse)");
      return;
    }
    List<ClusterState.Task> found =
        state.tasks(
            all(rc.queryParams().get("taskname")),
            all(rc.queryParams().get("workername")),
            all(rc.queryParams().get("state")),
            0,
            null);
    if (order != null) {
      found = new ArrayList<>(found);
      found.sort(order);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    found.stream()
        .skip(offset)
        .limit(limit == null ? Long.MAX_VALUE : limit)
        .forEach(t -> out.put(t.uuid(), t.asDict()));
    json(rc, 200, new JsonObject(out));
  }

  /** Flower's sort keys; a missing value sorts as the type's zero, as Flower does. */
  private static Comparator<ClusterState.Task> comparator(String sortBy) {
    boolean reverse = sortBy.startsWith("-");
    String key = sortBy.replaceFirst("^-", "");
    Comparator<ClusterState.Task> c =
        switch (key) {
          case "name" -> Comparator.comparing(t -> t.name() == null ? "" : t.name());
          case "state" -> Comparator.comparing(t -> t.state() == null ? "" : t.state());
          case "received", "started" ->
              Comparator.comparingDouble(t -> t.at(key) == null ? 0 : t.at(key));
          default -> null;
        };
    return c == null || !reverse ? c : c.reversed();
  }

  /**
   * Flower's {@code GET /api/task/info/<id>}: the task's fields; 404 for an id no event told of.
   */
  private void taskInfo(RoutingContext rc) {
    ClusterState.Task t = state.task(rc.pathParam("id"), false);
    if (t == null) {
      error(rc, 404, "Unknown task '" + rc.pathParam("id") + "'");
    } else {
      json(rc, 200, new JsonObject(t.asDict()));
    }
  }

  /**
   * Flower's {@code GET /api/queues/length}: {@code {"active_queues": [{"name", "messages"}]}} for
   * the queues consumed here.
   */
  private void queueLengths(RoutingContext rc) {
    status
        .<JsonArray>ask(Addresses.CONSUMER_QUEUE_LENGTHS)
        .onSuccess(q -> json(rc, 200, new JsonObject().put("active_queues", q)))
        .onFailure(err -> error(rc, 503, err.getMessage()));
  }

  /**
   * Flower's {@code POST /api/task/revoke/<id>?terminate=true&signal=SIGKILL}: a revoke broadcast
   * to every worker on the broker (this one receives it through its own mailbox), as {@code
   * app.control.revoke} sends it; replies {@code {"message": "Revoked '<id>'"}}.
   */
  private void revoke(RoutingContext rc) {
    String id = rc.pathParam("id");
    boolean terminate = truthy(rc.queryParams().get("terminate"));
    Map<String, Object> arguments = new LinkedHashMap<>();
    arguments.put("task_id", id);
    arguments.put("terminate", terminate);
    arguments.put(
        "signal",
        rc.queryParams().get("signal") == null ? "SIGTERM" : rc.queryParams().get("signal"));
    vertx
        .eventBus()
        .request(
            Addresses.BROKER_PUBLISH,
            mailbox.cast("revoke", arguments, null, System.currentTimeMillis() / 1000.0))
        .onSuccess(v -> json(rc, 200, new JsonObject().put("message", "Revoked '" + id + "'")))
        .onFailure(err -> error(rc, 503, err.getMessage()));
  }

  /**
   * A control command for one worker, as Flower's worker endpoints send it: this worker runs it and
   * answers with Flower's {@code {"message": ...}} (403 with Celery's error when it refused);
   * another worker gets it through the pidbox, without a reply awaited ({@code 202}).
   */
  private void workerCommand(
      RoutingContext rc, String worker, String command, JsonObject arguments) {
    if (worker == null || worker.isEmpty() || worker.equals(options.getHostname())) {
      commands
          .dispatch(command, arguments)
          .onSuccess(
              reply -> {
                JsonObject r =
                    reply instanceof JsonObject j
                        ? j
                        : reply instanceof Map<?, ?> m ? JsonObject.mapFrom(m) : new JsonObject();
                if (r.containsKey("error")) {
                  error(rc, 403, String.valueOf(r.getValue("error")));
                } else {
                  json(
                      rc,
                      200,
                      new JsonObject()
                          .put("message", String.valueOf(r.getValue("ok", command + " done"))));
                }
              });
      return;
    }
    if (state.worker(worker, false) == null) {
      error(rc, 404, "Unknown worker '" + worker + "'");
      return;
    }
    vertx
        .eventBus()
        .request(
            Addresses.BROKER_PUBLISH,
            mailbox.cast(
                command, arguments.getMap(), List.of(worker), System.currentTimeMillis() / 1000.0))
        .onSuccess(
            v ->
                json(
                    rc,
                    202,
                    new JsonObject().put("message", command + " sent to '" + worker + "'")))
        .onFailure(err -> error(rc, 503, err.getMessage()));
  }

  /** Flower's "All" means no filter. */
  private static String all(String v) {
    return v == null || v.isEmpty() || v.equals("All") ? null : v;
  }

  private static boolean truthy(String v) {
    return v != null && (v.equalsIgnoreCase("true") || v.equals("1") || v.equalsIgnoreCase("yes"));
  }

  private static Object number(String v) {
    try {
      return v == null ? null : Double.valueOf(v);
    } catch (NumberFormatException e) {
      return v;
    }
  }

  private static Object intParam(RoutingContext rc, String name, int dflt) {
    String v = rc.queryParams().get(name);
    return v == null ? dflt : v;
  }

  /** Every error as JSON, never an HTML page: {@code {"error": message}}. */
  static void error(RoutingContext rc, int status, String message) {
    json(rc, status, new JsonObject().put("error", message));
  }

  static void json(RoutingContext rc, int status, JsonObject body) {
    rc.response()
        .setStatusCode(status)
        .putHeader("content-type", "application/json")
        .end(body.encode());
  }

  /** The router's own errors (no route, wrong method, a handler that threw) as JSON too. */
  static void jsonErrors(Router router) {
    for (int code : new int[] {400, 401, 403, 404, 405, 413, 415, 500}) {
      router.errorHandler(
          code,
          rc -> {
            if (!rc.response().ended()) {
              String why =
                  rc.failure() != null && rc.statusCode() != 404 && rc.statusCode() != 405
                      ? String.valueOf(rc.failure().getMessage())
                      : code == 404
                          ? "not found: " + rc.request().path()
                          : code == 405
                              ? "method not allowed: "
                                  + rc.request().method()
                                  + " "
                                  + rc.request().path()
                              : io.netty.handler.codec.http.HttpResponseStatus.valueOf(code)
                                  .reasonPhrase();
              error(rc, code, why);
            }
          });
    }
  }
}

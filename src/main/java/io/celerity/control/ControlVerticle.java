package io.celerity.control;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.celerity.protocol.Json;
import io.celerity.protocol.TaskMessages;
import io.celerity.task.TaskRegistry;
import io.celerity.transport.FanoutBinding;
import io.celerity.transport.FanoutSubscription;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The control verticle's HTTP bridge: health and readiness probes, Celery's {@code ping} and
 * {@code stats} as JSON, and Flower-compatible task endpoints to send a task and read its result.
 */
public class ControlVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.control");
  private static final long ASK_TIMEOUT_MS = 2000;
  /** Celery's control exchange, {@code <control_exchange>.pidbox}. */
  public static final String PIDBOX_EXCHANGE = "celery.pidbox";

  private final TaskRegistry registry;
  private final ControlCommands commands = new ControlCommands();
  private WorkerOptions options;
  private Pidbox mailbox;
  private HttpServer server;
  private final long startMillis = System.currentTimeMillis();
  private io.celerity.events.TaskEvents events;
  private io.celerity.metrics.WorkerMetrics metrics;

  public ControlVerticle(TaskRegistry registry) {
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    options = new WorkerOptions(config());
    events = io.celerity.events.TaskEvents.of(vertx);
    metrics = io.celerity.metrics.WorkerMetrics.of(vertx);
    mailbox = new Pidbox(options.getHostname(), events.clock());
    if (!HttpAuth.isLoopback(options.getHttpHost()) && options.getHttpToken() == null) {
      return Future.failedFuture(new IllegalArgumentException("The HTTP bridge binds to " + options.getHttpHost()
        + ", beyond this machine: set http_token (CELERITY_HTTP_TOKEN) or bind to 127.0.0.1"));
    }
    HttpAuth auth = new HttpAuth(options.getHttpToken());
    registerCommands();
    vertx.eventBus().<Delivery>consumer(Addresses.CONTROL_PIDBOX, m -> onRequest(m.body()));
    FanoutBinding pidbox = new FanoutBinding(PIDBOX_EXCHANGE, options.getHostname() + "." + PIDBOX_EXCHANGE, "",
      Map.of("x-message-ttl", 300_000, "x-expires", 10_000));
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create().setBodyLimit(1 << 20));
    router.get("/health").handler(this::health);
    router.get("/ready").handler(this::ready);
    router.get("/control/ping").handler(rc -> json(rc, 200, reply(new JsonObject().put("ok", "pong"))));
    router.get("/control/stats").handler(this::stats);
    router.get("/metrics").handler(this::refreshGauges)
      .handler(io.vertx.micrometer.PrometheusScrapingHandler.create(metrics.registry()));
    router.get("/control/inspect/:command").handler(rc -> httpCommand(rc, true, auth));
    router.post("/control/inspect/:command").handler(rc -> httpCommand(rc, true, auth));
    router.post("/control/:command").handler(rc -> httpCommand(rc, false, auth));
    router.post("/api/task/async-apply/:name").handler(auth::requireTokenIfSet).handler(this::asyncApply);
    router.get("/api/task/result/:id").handler(this::result);
    return vertx.eventBus().request(Addresses.CONSUMER_FANOUT, new FanoutSubscription(pidbox, Addresses.CONTROL_PIDBOX))
      .compose(v -> vertx.createHttpServer().requestHandler(router).listen(options.getHttpPort(), options.getHttpHost()))
      .onSuccess(s -> {
        server = s;
        log.info("HTTP bridge listening on http://{}:{}", options.getHttpHost(), s.actualPort());
      });
  }

  /** A pidbox request: ours? run it, reply if a reply is wanted. Bad requests are logged and dropped. */
  @SuppressWarnings("unchecked")
  private void onRequest(Delivery d) {
    Map<String, Object> request;
    try {
      request = (Map<String, Object>) Json.parse(d.body());
    } catch (Exception e) {
      log.error("Dropping undecodable remote-control message: {}", e.getMessage());
      return;
    }
    mailbox.observe(d.headers());
    if (!(request.get("method") instanceof String method)
      || !mailbox.accepts(request, d.headers(), System.currentTimeMillis() / 1000.0)) {
      return;
    }
    Object args = request.get("arguments");
    JsonObject arguments = args instanceof Map<?, ?> a ? new JsonObject((Map<String, Object>) a) : new JsonObject();
    log.debug("pidbox received method {} {}", method, arguments);
    commands.dispatch(method, arguments).onSuccess(result -> {
      if (result == ControlCommands.NO_REPLY) {
        return;
      }
      OutgoingMessage reply = mailbox.reply(request, result);
      if (reply != null) {
        vertx.eventBus().request(Addresses.BROKER_PUBLISH, reply)
          .onFailure(err -> log.warn("Remote-control reply to {} not sent: {}", method, err.getMessage()));
      }
    });
  }

  private void registerCommands() {
    commands.register("ping", a -> Future.succeededFuture(Map.of("ok", "pong")))
      .register("stats", a -> statsValue().map(s -> (Object) s))
      .register("registered", a -> Future.succeededFuture(InspectViews.registered(registry, options, a)))
      .register("scheduled", a -> ask(Addresses.CONSUMER_SCHEDULED))
      .register("revoke", this::revoke)
      .register("terminate", a -> revoke(a.copy().put("terminate", true)))
      .register("rate_limit", a -> this.<JsonObject>ask(Addresses.CONSUMER_RATE_LIMIT, a).map(j -> (Object) j))
      .register("time_limit", this::timeLimit)
      .register("active", a -> this.<JsonObject>ask(Addresses.POOL_REQUESTS).map(r -> (Object) r.getJsonArray("active")))
      .register("reserved", a -> this.<JsonObject>ask(Addresses.POOL_REQUESTS).map(r -> (Object) r.getJsonArray("reserved")))
      .register("revoked", a -> this.<JsonObject>ask(Addresses.CONSUMER_REVOKED).map(r -> (Object) new JsonArray(new ArrayList<>(r.fieldNames()))))
      .register("active_queues", a -> ask(Addresses.CONSUMER_QUEUES))
      // Celery answers with the app's own settings: Python children report theirs, ours go on top
      .register("conf", a -> this.<JsonObject>ask(Addresses.POOL_APP_CONF).otherwiseEmpty()
        .map(app -> (Object) InspectViews.conf(options, a, app)))
      .register("query_task", this::queryTask)
      .register("report", a -> Future.succeededFuture(Map.of("ok", report())))
      .register("clock", a -> Future.succeededFuture(Map.of("clock", mailbox.clock())))
      .register("add_consumer", a -> ask(Addresses.CONSUMER_ADD_QUEUE, new JsonObject().put("queue", required(a, "queue"))))
      .register("cancel_consumer", a -> ask(Addresses.CONSUMER_CANCEL_QUEUE, new JsonObject().put("queue", required(a, "queue"))))
      .register("pool_grow", a -> ask(Addresses.POOL_RESIZE, new JsonObject().put("grow", true).put("n", count(a))))
      .register("pool_shrink", a -> ask(Addresses.POOL_RESIZE, new JsonObject().put("grow", false).put("n", count(a))))
      .register("autoscale", a -> ask(Addresses.POOL_AUTOSCALE, new JsonObject()
        .put("max", intArg(a, "max")).put("min", intArg(a, "min"))))
      .register("pool_restart", a -> Future.succeededFuture(Map.of("error", "ValueError('Pool restarts not enabled')")))
      .register("enable_events", a -> Future.succeededFuture(Map.of("ok",
        events.enabled(true) ? "task events already enabled" : "task events enabled")))
      .register("disable_events", a -> Future.succeededFuture(Map.of("ok",
        events.enabled(false) ? "task events disabled" : "task events already disabled")))
      .register("heartbeat", a -> ask(Addresses.HEARTBEAT_SEND).map(v -> (Object) null))
      .register("hello", this::hello)
      .register("shutdown", a -> {
        log.warn("Got shutdown from remote");
        vertx.eventBus().send(Addresses.WORKER_REMOTE_SHUTDOWN, null);
        return Future.succeededFuture(ControlCommands.NO_REPLY);
      })
      .alias("dump_tasks", "registered")
      .alias("dump_schedule", "scheduled")
      .alias("dump_reserved", "reserved")
      .alias("dump_active", "active")
      .alias("dump_revoked", "revoked")
      .alias("dump_conf", "conf");
    for (String unsupported : List.of("election", "memsample", "memdump", "objgraph")) {
      commands.register(unsupported, a -> Future.succeededFuture(Map.of("error", "NotImplementedError('" + unsupported
        + " is not supported by Celerity')")));
    }
  }

  /** {@code revoke}/{@code terminate}: every worker remembers the ids; running ones are stopped with terminate. */
  private Future<Object> revoke(JsonObject a) {
    List<String> ids = ids(a, "task_id");
    boolean terminate = Boolean.TRUE.equals(a.getValue("terminate"));
    JsonObject body = new JsonObject().put("ids", new JsonArray(ids)).put("terminate", terminate)
      .put("signal", a.getString("signal", "SIGTERM"));
    return this.<JsonObject>ask(Addresses.CONSUMER_REVOKE, body)
      .compose(v -> this.<JsonObject>ask(Addresses.POOL_REVOKE, body))
      .map(r -> {
        if (!terminate) {
          return Map.of("ok", "tasks " + String.join(", ", ids) + " flagged as revoked");
        }
        List<Object> terminated = r.getJsonArray("terminated").getList();
        return Map.of("ok", terminated.isEmpty() ? "terminate: tasks unknown"
          : "terminate: " + String.join(", ", terminated.stream().map(String::valueOf).toList()));
      });
  }

  private Future<Object> timeLimit(JsonObject a) {
    Double hard = a.getValue("hard") instanceof Number n ? n.doubleValue() : null;
    Double soft = a.getValue("soft") instanceof Number n ? n.doubleValue() : null;
    boolean known = registry.updateOptions(a.getString("task_name", ""), o -> o.withTimeLimits(hard, soft));
    return Future.succeededFuture(known ? Map.of("ok", "time limits set successfully") : Map.of("error", "unknown task"));
  }

  private static String required(JsonObject a, String key) {
    Object v = a.getValue(key);
    if (v == null || v.toString().isEmpty()) {
      throw new IllegalArgumentException("missing argument " + key);
    }
    return v.toString();
  }

  /** Integer arguments arrive as numbers (API) or strings (CLI without a type). */
  private static int intArg(JsonObject a, String key) {
    Object v = a.getValue(key);
    try {
      return v instanceof Number n ? n.intValue() : Integer.parseInt(required(a, key).trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid literal for int() with base 10: '" + v + "'");
    }
  }

  /** Task ids as Celery sends them: one id or a list of ids. */
  private static List<String> ids(JsonObject a, String key) {
    Object raw = a.getValue(key);
    List<String> ids = new ArrayList<>();
    if (raw instanceof JsonArray arr) {
      arr.forEach(id -> ids.add(String.valueOf(id)));
    } else if (raw != null) {
      ids.add(raw.toString());
    }
    return ids;
  }

  private static int count(JsonObject a) {
    return a.getValue("n") == null ? 1 : intArg(a, "n");
  }

  /** {@code query_task}: each known id with its state, {@code active} (running) or {@code reserved} (held or queued). */
  private Future<Object> queryTask(JsonObject a) {
    List<String> ids = ids(a, "ids");
    Future<JsonObject> pool = ask(Addresses.POOL_REQUESTS);
    Future<JsonArray> scheduled = ask(Addresses.CONSUMER_SCHEDULED);
    return Future.all(pool, scheduled).map(cf -> {
      JsonObject out = new JsonObject();
      collect(out, ids, "active", pool.result().getJsonArray("active"));
      collect(out, ids, "reserved", pool.result().getJsonArray("reserved"));
      JsonArray held = new JsonArray();
      scheduled.result().forEach(s -> held.add(((JsonObject) s).getJsonObject("request")));
      collect(out, ids, "reserved", held);
      return out;
    });
  }

  private static void collect(JsonObject out, List<String> ids, String state, JsonArray infos) {
    for (Object o : infos) {
      JsonObject info = (JsonObject) o;
      if (ids.contains(info.getString("id")) && !out.containsKey(info.getString("id"))) {
        out.put(info.getString("id"), new JsonArray().add(state).add(info));
      }
    }
  }

  /** {@code conf} with defaults, for the report. */
  private JsonObject conf() {
    return InspectViews.conf(options, new JsonObject().put("with_defaults", true));
  }

  /** {@code report}: Celery's bug-report text, with the JVM in place of Python. */
  private String report() {
    return "software -> celerity:" + io.celerity.heartbeat.WorkerEvents.SW_VER + " (celery-compatible 5.2)"
      + " java:" + System.getProperty("java.version") + "\n"
      + "platform -> system:" + System.getProperty("os.name") + " arch:" + System.getProperty("os.arch")
      + " vm:" + System.getProperty("java.vm.name") + "\n"
      + "loader -> io.celerity.WorkerVerticle\n"
      + "settings -> transport:" + options.getBroker().split(":", 2)[0] + " results:"
      + (options.getResultBackend() == null ? "disabled" : options.getResultBackend().split(":", 2)[0]) + "\n\n"
      + conf().encodePrettily() + "\n";
  }

  /** Mingle's {@code hello}: our revoked ids as {@code {id: [time, id]}} (time a float) and our clock. */
  private Future<Object> hello(JsonObject a) {
    if (options.getHostname().equals(a.getString("from_node"))) {
      return Future.succeededFuture(null);
    }
    return this.<JsonObject>ask(Addresses.CONSUMER_REVOKED).map(r -> {
      JsonObject revoked = new JsonObject();
      r.forEach(e -> revoked.put(e.getKey(), new JsonArray().add(((Number) e.getValue()).longValue() / 1000.0).add(e.getKey())));
      return (Object) new JsonObject().put("revoked", revoked).put("clock", mailbox.clock());
    });
  }

  /**
   * The HTTP form of a command: arguments from the JSON body (POST) or the query string (each
   * value JSON if it parses, else a string); the reply is keyed by node name, as {@code celery
   * inspect --json} prints it. State-changing commands need the bearer token.
   */
  private void httpCommand(RoutingContext rc, boolean inspectPath, HttpAuth auth) {
    String command = rc.pathParam("command");
    if (!commands.names().contains(command)) {
      json(rc, 404, reply(new JsonObject().put("error", "KeyError('" + command + "')")));
      return;
    }
    boolean readOnly = INSPECT.contains(command);
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

  /** Commands that only read state: open on the bridge without a token. */
  static final java.util.Set<String> INSPECT = java.util.Set.of("ping", "stats", "active", "reserved", "scheduled",
    "registered", "revoked", "active_queues", "conf", "query_task", "report", "clock", "dump_tasks", "dump_schedule",
    "dump_reserved", "dump_active", "dump_revoked", "dump_conf");

  /** Before a scrape: the gauges take the verticles' current numbers (nothing is sampled on the hot path). */
  private void refreshGauges(RoutingContext rc) {
    Future<JsonObject> pool = ask(Addresses.POOL_STATS);
    Future<JsonObject> consumer = ask(Addresses.CONSUMER_STATS);
    Future<JsonObject> hb = ask(Addresses.HEARTBEAT_STATUS);
    Future.join(pool, consumer, hb).onComplete(ar -> {
      metrics.update(pool.result(), consumer.result(), hb.result());
      rc.next();
    });
  }

  private <T> Future<T> ask(String address, Object body) {
    return vertx.eventBus().<T>request(address, body, new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(ASK_TIMEOUT_MS))
      .map(Message::body);
  }

  /** The port actually bound (useful with {@code http_port} 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  private JsonObject reply(Object body) {
    return new JsonObject().put(options.getHostname(), body);
  }

  private <T> Future<T> ask(String address) {
    return ask(address, null);
  }

  /** Live: this event loop answers, and the heartbeat verticle's loop answers too. */
  private void health(RoutingContext rc) {
    this.<JsonObject>ask(Addresses.HEARTBEAT_STATUS)
      .onSuccess(hb -> json(rc, 200, new JsonObject().put("status", "UP").put("heartbeat", hb)))
      .onFailure(err -> json(rc, 503, new JsonObject().put("status", "DOWN").put("reason", err.getMessage())));
  }

  /**
   * Ready: connected to the broker, the pool answers, and the result backend takes writes (its
   * last writes went through and it answers a round trip; a worker whose results cannot be stored
   * is not ready, acks_late messages would only go round).
   */
  private void ready(RoutingContext rc) {
    Future<JsonObject> consumer = ask(Addresses.CONSUMER_STATS);
    Future<JsonObject> pool = ask(Addresses.POOL_STATS);
    Future<JsonObject> results = ask(Addresses.RESULT_HEALTH);
    Future.join(consumer, pool, results).onComplete(ar -> {
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
      json(rc, ready ? 200 : 503, body);
    });
  }

  private void stats(RoutingContext rc) {
    statsValue().onSuccess(s -> json(rc, 200, reply(s)))
      .onFailure(err -> json(rc, 503, new JsonObject().put("error", err.getMessage())));
  }

  /** Celery's {@code inspect stats} value for this worker. */
  private Future<JsonObject> statsValue() {
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
        .put("clock", String.valueOf(Math.max(mailbox.clock(), hb.result().getLong("clock", 0L))))
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

package io.celerity.control;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.celerity.events.TaskEvents;
import io.celerity.task.TaskRegistry;
import io.celerity.types.ControlRequests;
import io.celerity.types.RequestInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every remote-control command of the worker, declared once with its kind (Celery's {@code
 * celery.worker.control} panel). The commands answer from the other verticles' state, asked over
 * the event bus; pidbox requests and the HTTP bridge both dispatch to them.
 */
final class Panel {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.control");

  private final Vertx vertx;
  private final WorkerOptions options;
  private final TaskRegistry registry;
  private final TaskEvents events;
  private final WorkerStatus status;
  private final LongSupplier clock;

  Panel(
      Vertx vertx,
      WorkerOptions options,
      TaskRegistry registry,
      TaskEvents events,
      WorkerStatus status,
      LongSupplier clock) {
    this.vertx = vertx;
    this.options = options;
    this.registry = registry;
    this.events = events;
    this.status = status;
    this.clock = clock;
  }

  ControlCommands commands() {
    ControlCommands commands = new ControlCommands();
    commands
        .inspect("ping", a -> Future.succeededFuture(Map.of("ok", "pong")))
        .inspect("stats", a -> status.stats().map(s -> (Object) s))
        .inspect(
            "registered",
            a -> Future.succeededFuture(InspectViews.registered(registry, options, a)))
        .inspect(
            "scheduled",
            a ->
                status
                    .<ControlRequests.Scheduled>ask(Addresses.CONSUMER_SCHEDULED)
                    .compose(s -> offLoop(() -> InspectViews.scheduled(s.requests()))))
        .control("revoke", this::revoke)
        .control("terminate", a -> revoke(a.copy().put("terminate", true)))
        .control(
            "rate_limit",
            a ->
                status
                    .<JsonObject>ask(
                        Addresses.CONSUMER_RATE_LIMIT,
                        new ControlRequests.RateLimit(
                            a.getString("task_name"), a.getValue("rate_limit")))
                    .map(j -> (Object) j))
        .control("time_limit", this::timeLimit)
        .inspect(
            "active",
            a ->
                status
                    .<ControlRequests.PoolRequests>ask(Addresses.POOL_REQUESTS)
                    .map(r -> (Object) r.active()))
        .inspect(
            "reserved",
            a ->
                status
                    .<ControlRequests.PoolRequests>ask(Addresses.POOL_REQUESTS)
                    .map(r -> (Object) r.reserved()))
        .inspect(
            "revoked",
            a ->
                status
                    .<JsonObject>ask(Addresses.CONSUMER_REVOKED)
                    .map(r -> (Object) new JsonArray(new ArrayList<>(r.fieldNames()))))
        .inspect("active_queues", a -> status.ask(Addresses.CONSUMER_QUEUES))
        // Celery answers with the app's own settings: Python children report theirs, ours go on top
        .inspect(
            "conf",
            a ->
                status
                    .<JsonObject>ask(Addresses.POOL_APP_CONF)
                    .otherwiseEmpty()
                    .map(app -> (Object) InspectViews.conf(options, a, app)))
        .inspect("query_task", this::queryTask)
        .inspect("report", a -> Future.succeededFuture(Map.of("ok", report())))
        .inspect("clock", a -> Future.succeededFuture(Map.of("clock", clock.getAsLong())))
        .control(
            "add_consumer", a -> status.ask(Addresses.CONSUMER_ADD_QUEUE, required(a, "queue")))
        .control(
            "cancel_consumer",
            a -> status.ask(Addresses.CONSUMER_CANCEL_QUEUE, required(a, "queue")))
        .control(
            "pool_grow",
            a -> status.ask(Addresses.POOL_RESIZE, new ControlRequests.PoolResize(true, count(a))))
        .control(
            "pool_shrink",
            a -> status.ask(Addresses.POOL_RESIZE, new ControlRequests.PoolResize(false, count(a))))
        .control(
            "autoscale",
            a ->
                status.ask(
                    Addresses.POOL_AUTOSCALE,
                    new ControlRequests.Autoscale(intArg(a, "max"), intArg(a, "min"))))
        .control(
            "pool_restart",
            a -> Future.succeededFuture(Map.of("error", "ValueError('Pool restarts not enabled')")))
        .control(
            "enable_events",
            a ->
                Future.succeededFuture(
                    Map.of(
                        "ok",
                        events.enabled(true)
                            ? "task events already enabled"
                            : "task events enabled")))
        .control(
            "disable_events",
            a ->
                Future.succeededFuture(
                    Map.of(
                        "ok",
                        events.enabled(false)
                            ? "task events disabled"
                            : "task events already disabled")))
        .control("heartbeat", a -> status.ask(Addresses.HEARTBEAT_SEND).map(v -> (Object) null))
        .inspect("hello", this::hello)
        .control(
            "shutdown",
            a -> {
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
      commands.register(
          unsupported,
          "election".equals(unsupported)
              ? ControlCommands.Kind.CONTROL
              : ControlCommands.Kind.INSPECT,
          a ->
              Future.succeededFuture(
                  Map.of(
                      "error",
                      "NotImplementedError('" + unsupported + " is not supported by Celerity')")));
    }
    return commands;
  }

  /**
   * {@code revoke}/{@code terminate}: every worker remembers the ids; running ones are stopped with
   * terminate.
   */
  private Future<Object> revoke(JsonObject a) {
    List<String> ids = ids(a, "task_id");
    boolean terminate = Boolean.TRUE.equals(a.getValue("terminate"));
    ControlRequests.Revoke body =
        new ControlRequests.Revoke(ids, terminate, a.getString("signal", "SIGTERM"));
    return status
        .ask(Addresses.CONSUMER_REVOKE, body)
        .compose(v -> status.<JsonArray>ask(Addresses.POOL_REVOKE, body))
        .map(
            terminatedIds -> {
              if (!terminate) {
                return Map.of("ok", "tasks " + String.join(", ", ids) + " flagged as revoked");
              }
              List<Object> terminated = terminatedIds.getList();
              return Map.of(
                  "ok",
                  terminated.isEmpty()
                      ? "terminate: tasks unknown"
                      : "terminate: "
                          + String.join(", ", terminated.stream().map(String::valueOf).toList()));
            });
  }

  private Future<Object> timeLimit(JsonObject a) {
    Double hard = a.getValue("hard") instanceof Number n ? n.doubleValue() : null;
    Double soft = a.getValue("soft") instanceof Number n ? n.doubleValue() : null;
    boolean known =
        registry.updateOptions(a.getString("task_name", ""), o -> o.withTimeLimits(hard, soft));
    return Future.succeededFuture(
        known ? Map.of("ok", "time limits set successfully") : Map.of("error", "unknown task"));
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

  /**
   * {@code query_task}: each known id with its state, {@code active} (running) or {@code reserved}
   * (held or queued).
   */
  private Future<Object> queryTask(JsonObject a) {
    List<String> ids = ids(a, "ids");
    Future<ControlRequests.PoolRequests> pool = status.ask(Addresses.POOL_REQUESTS);
    Future<ControlRequests.Scheduled> scheduled = status.ask(Addresses.CONSUMER_SCHEDULED);
    return Future.all(pool, scheduled)
        .compose(
            cf ->
                offLoop(
                    () -> {
                      JsonObject out = new JsonObject();
                      collect(out, ids, "active", pool.result().active());
                      collect(out, ids, "reserved", pool.result().reserved());
                      JsonArray held = new JsonArray();
                      scheduled
                          .result()
                          .requests()
                          .forEach(r -> held.add(RequestInfo.of(r, null, false, null)));
                      collect(out, ids, "reserved", held);
                      return out;
                    }));
  }

  /**
   * Builds a reply that grows with what the worker holds (100,000 ETA tasks held make tens of
   * megabytes) on a worker thread, not on the control verticle's event loop.
   */
  private Future<Object> offLoop(java.util.concurrent.Callable<Object> view) {
    return vertx.executeBlocking(view, false);
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
    return "software -> celerity:"
        + io.celerity.heartbeat.WorkerEvents.SW_VER
        + " (celery-compatible 5.2)"
        + " java:"
        + System.getProperty("java.version")
        + "\n"
        + "platform -> system:"
        + System.getProperty("os.name")
        + " arch:"
        + System.getProperty("os.arch")
        + " vm:"
        + System.getProperty("java.vm.name")
        + "\n"
        + "loader -> io.celerity.WorkerVerticle\n"
        + "settings -> transport:"
        + options.getBroker().split(":", 2)[0]
        + " results:"
        + (options.getResultBackend() == null
            ? "disabled"
            : options.getResultBackend().split(":", 2)[0])
        + "\n\n"
        + conf().encodePrettily()
        + "\n";
  }

  /**
   * Mingle's {@code hello}: our revoked ids as {@code {id: [time, id]}} (time a float) and our
   * clock.
   */
  private Future<Object> hello(JsonObject a) {
    if (options.getHostname().equals(a.getString("from_node"))) {
      return Future.succeededFuture(null);
    }
    return status
        .<JsonObject>ask(Addresses.CONSUMER_REVOKED)
        .map(
            r -> {
              JsonObject revoked = new JsonObject();
              r.forEach(
                  e ->
                      revoked.put(
                          e.getKey(),
                          new JsonArray()
                              .add(((Number) e.getValue()).longValue() / 1000.0)
                              .add(e.getKey())));
              return (Object)
                  new JsonObject().put("revoked", revoked).put("clock", clock.getAsLong());
            });
  }
}

package io.celerity.control;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.celerity.control.HttpPolicy.Access;
import io.celerity.events.ClusterState;
import io.celerity.events.TaskEvents;
import io.celerity.types.ConsumerStats;
import io.celerity.types.PoolStats;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.Map;

/**
 * The dashboard: one page at {@code /} with its script and style from the jar ({@code
 * resources/dashboard}, no CDN, no build step), and {@code GET /dashboard/api/state}, the figures
 * it plots that Flower's API does not carry (per-task-type rates and runtime percentiles, this
 * worker's pool and prefetch). Everything else the page reads from Flower's API and the inspect
 * commands; its actions call the control commands with the token the operator types in.
 */
final class Dashboard {

  /** The plots' window and bucket, in seconds. */
  static final double WINDOW = 300;

  static final double BUCKET = 10;

  private final WorkerOptions options;
  private final WorkerStatus status;
  private final ClusterState state;
  private final TaskEvents events;

  Dashboard(WorkerOptions options, WorkerStatus status, ClusterState state, TaskEvents events) {
    this.options = options;
    this.status = status;
    this.state = state;
    this.events = events;
  }

  /** Read-only routes: the page, its assets and its state. */
  void reads(HttpBridge.Routes routes) {
    // The page and its scripts hold no data, so they load without the token even where reads need
    // it;
    // the page then sends the token typed into it with every request for data or action.
    routes
        .route(HttpMethod.GET, "/", Access.PUBLIC)
        .handler(rc -> rc.reroute("/dashboard/index.html"));
    routes.route(HttpMethod.GET, "/dashboard/api/state", Access.READ).handler(this::state);
    routes
        .route(HttpMethod.GET, "/dashboard/*", Access.PUBLIC)
        .handler(
            StaticHandler.create("dashboard")
                .setCachingEnabled(false)
                .setDirectoryListing(false)
                .setIncludeHidden(false));
  }

  private void state(RoutingContext rc) {
    double now = System.currentTimeMillis() / 1000.0;
    Future<ConsumerStats> consumer = status.ask(Addresses.CONSUMER_STATS);
    Future<PoolStats> pool = status.ask(Addresses.POOL_STATS);
    Future.join(consumer, pool)
        .onComplete(
            ar -> {
              JsonArray workers = new JsonArray();
              state.workers().forEach(w -> workers.add(new JsonObject(w.view(now))));
              JsonObject types = new JsonObject();
              for (Map.Entry<String, ClusterState.TypeStats> e :
                  state.typeStats(now, WINDOW, BUCKET).entrySet()) {
                ClusterState.TypeStats s = e.getValue();
                JsonArray finished = new JsonArray();
                for (long n : s.finished()) {
                  finished.add(n);
                }
                types.put(
                    e.getKey(),
                    new JsonObject()
                        .put("states", new JsonObject(Map.copyOf(s.states())))
                        .put("finished", finished)
                        .put("rate", s.rate())
                        .put("p50", s.p50())
                        .put("p90", s.p90())
                        .put("p99", s.p99()));
              }
              JsonObject c = new JsonObject();
              if (consumer.succeeded()) {
                ConsumerStats cs = consumer.result();
                c.put("connected", cs.connected())
                    .put("prefetch_count", cs.prefetchCount())
                    .put("unsettled", cs.unsettled())
                    .put("eta_held", cs.etaHeld())
                    .put("rate_limited", cs.rateLimited())
                    .put("queues", new JsonArray(cs.queues()));
              }
              JsonObject p = new JsonObject().put("implementation", options.getPool());
              if (pool.succeeded()) {
                PoolStats ps = pool.result();
                p.put("max-concurrency", ps.maxConcurrency())
                    .put("active", ps.active())
                    .put("reserved", ps.reserved())
                    .put("processed", ps.processed());
              }
              FlowerApi.json(
                  rc,
                  200,
                  new JsonObject()
                      .put("node", options.getHostname())
                      .put("now", now)
                      .put("window", WINDOW)
                      .put("bucket", BUCKET)
                      .put("task_events", events.enabled())
                      .put("events_seen", state.eventCount())
                      .put("tasks_kept", state.taskCount())
                      .put("workers", workers)
                      .put("types", types)
                      .put("pool", p)
                      .put("consumer", c));
            });
  }
}

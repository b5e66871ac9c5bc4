package io.celerity.heartbeat;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.celerity.types.HeartbeatStatus;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.PoolStats;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heartbeat: sends Celery's worker events (online, a heartbeat every {@code heartbeat_interval}
 * seconds, offline) and watches its own event loop's lag for the health probe.
 */
public class HeartbeatVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.heartbeat");
  private static final long LAG_PROBE_MS = 100;

  private final io.celerity.WorkerServices services;
  private WorkerEvents events;
  private long lastProbeNanos;
  private long maxLagMs;
  private long lastBeatMillis;
  private boolean offlineSent;

  public HeartbeatVerticle(io.celerity.WorkerServices services) {
    this.services = services;
  }

  @Override
  public Future<?> start() {
    WorkerOptions options = new WorkerOptions(config());
    io.celerity.events.TaskEvents taskEvents = services.events();
    events =
        new WorkerEvents(options.getHostname(), options.getHeartbeatInterval(), taskEvents.clock());
    // This verticle publishes the task events too: batches leave from its event loop, never a
    // task's.
    taskEvents.publisher(
        context,
        m ->
            vertx
                .eventBus()
                .request(Addresses.BROKER_PUBLISH, m)
                .onFailure(err -> log.debug("task events not sent: {}", err.getMessage())));
    vertx
        .eventBus()
        .<String>consumer(
            Addresses.HEARTBEAT_SEND,
            m -> {
              String type = m.body() == null ? "worker-heartbeat" : m.body();
              (offlineSent ? Future.<Void>succeededFuture() : send(type))
                  .onComplete(ar -> m.reply(null));
              if ("worker-offline".equals(type)) {
                offlineSent =
                    true; // no heartbeats after the goodbye, and no second one when undeployed
              }
            });
    lastProbeNanos = System.nanoTime();
    vertx.setPeriodic(
        LAG_PROBE_MS,
        id -> {
          long now = System.nanoTime();
          long lag = (now - lastProbeNanos) / 1_000_000 - LAG_PROBE_MS;
          maxLagMs = Math.max(0, Math.max(lag, maxLagMs * 9 / 10));
          lastProbeNanos = now;
        });
    vertx.setPeriodic(
        (long) (options.getHeartbeatInterval() * 1000),
        id -> {
          if (!offlineSent) {
            send("worker-heartbeat");
          }
        });
    vertx
        .eventBus()
        .consumer(
            Addresses.HEARTBEAT_STATUS,
            m ->
                m.reply(
                    new HeartbeatStatus(
                        maxLagMs,
                        lastBeatMillis == 0 ? null : System.currentTimeMillis() - lastBeatMillis,
                        events.clock())));
    send("worker-online");
    return Future.succeededFuture();
  }

  private Future<Void> send(String type) {
    return vertx
        .eventBus()
        .<PoolStats>request(Addresses.POOL_STATS, null)
        .compose(
            stats -> {
              PoolStats s = stats.body();
              OutgoingMessage m = events.event(type, s.active(), s.processed());
              return vertx.eventBus().request(Addresses.BROKER_PUBLISH, m);
            })
        .onSuccess(v -> lastBeatMillis = System.currentTimeMillis())
        .onFailure(err -> log.debug("{} not sent: {}", type, err.getMessage()))
        .mapEmpty();
  }

  @Override
  public Future<?> stop() {
    return offlineSent
        ? Future.succeededFuture()
        : send("worker-offline").recover(err -> Future.succeededFuture());
  }
}

package io.celerity.types;

import io.vertx.core.json.JsonObject;

/**
 * The heartbeat verticle's liveness ({@code Addresses.HEARTBEAT_STATUS} reply, shown by {@code
 * /health}).
 *
 * @param eventLoopLagMs recent lag of its event loop (decaying maximum)
 * @param lastHeartbeatMsAgo since the last worker-heartbeat was sent, or null before the first
 * @param clock the Lamport clock of events and heartbeats
 */
public record HeartbeatStatus(long eventLoopLagMs, Long lastHeartbeatMsAgo, long clock) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("event_loop_lag_ms", eventLoopLagMs)
        .put("last_heartbeat_ms_ago", lastHeartbeatMsAgo)
        .put("clock", clock);
  }
}

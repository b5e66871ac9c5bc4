package io.celerity.types;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The JSON the HTTP bridge and {@code inspect stats} show from the verticles' typed replies keeps
 * its keys.
 */
class BusContractsTest {

  @Test
  void readinessShowsWhyTheBackendIsDown() {
    assertEquals(
        new JsonObject().put("up", false).put("error", "timeout"),
        ResultHealth.unknown("timeout").toJson());
    assertEquals(
        new JsonObject()
            .put("up", true)
            .put("writes", "UP")
            .put("writes_retrying", 0L)
            .put("ping", true),
        new ResultHealth(true, "UP", 0, true, "an old error").toJson(),
        "an error is shown only while down");
  }

  @Test
  void writeCountersKeepCelerysStatsKeys() {
    JsonObject json = new ResultStats(5, 1, 2, 3, 0, 4, 6, 7, "UP").toJson();
    assertEquals(
        Set.of(
            "succeeded",
            "failed",
            "retried",
            "revoked",
            "pending_writes",
            "results_lost",
            "write_retries",
            "writes_given_up",
            "backend"),
        json.fieldNames());
    assertEquals(4L, json.getLong("results_lost"));
  }

  @Test
  void heartbeatStatusBeforeTheFirstBeat() {
    assertEquals(
        new JsonObject()
            .put("event_loop_lag_ms", 3L)
            .putNull("last_heartbeat_ms_ago")
            .put("clock", 9L),
        new HeartbeatStatus(3, null, 9).toJson());
  }

  @Test
  void poolRequestIdsCoverActiveAndReserved() {
    ControlRequests.PoolRequests r =
        new ControlRequests.PoolRequests(
            new JsonArray().add(new JsonObject().put("id", "a")),
            new JsonArray().add(new JsonObject().put("id", "b")));
    assertEquals(Set.of("a", "b"), r.taskIds());
  }
}

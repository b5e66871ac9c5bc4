package io.celerity.types;

import io.vertx.core.json.JsonObject;

/**
 * The result writer's counters ({@code Addresses.RESULT_STATS} reply); shown under {@code
 * pool.writes} of {@code inspect stats}.
 *
 * @param pendingWrites stores started and not finished
 * @param resultsLost results that could not be stored, retries used up
 * @param writeRetries store attempts retried
 * @param writesGivenUp stores given up on
 * @param backend the backend's write health ({@code UP}, {@code RETRYING}, ...)
 */
public record ResultStats(
    long succeeded,
    long failed,
    long retried,
    long revoked,
    long pendingWrites,
    long resultsLost,
    long writeRetries,
    long writesGivenUp,
    String backend) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("succeeded", succeeded)
        .put("failed", failed)
        .put("retried", retried)
        .put("revoked", revoked)
        .put("pending_writes", pendingWrites)
        .put("results_lost", resultsLost)
        .put("write_retries", writeRetries)
        .put("writes_given_up", writesGivenUp)
        .put("backend", backend);
  }
}

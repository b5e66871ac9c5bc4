package io.celerity.types;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The remote-control commands the control verticle hands to the consumer and the pool. */
public final class ControlRequests {

  private ControlRequests() {}

  /**
   * {@code revoke}/{@code terminate} ({@code Addresses.CONSUMER_REVOKE}, then {@code POOL_REVOKE},
   * which replies the terminated ids as a JSON array).
   */
  public record Revoke(List<String> ids, boolean terminate, String signal) {}

  /** {@code rate_limit}: {@code rateLimit} as Celery takes it ("10/s", a number, 0 to remove). */
  public record RateLimit(String task, Object rateLimit) {}

  /** {@code pool_grow} ({@code grow}) or {@code pool_shrink} by {@code n} slots. */
  public record PoolResize(boolean grow, int n) {}

  /** {@code autoscale}: the new range. */
  public record Autoscale(int max, int min) {}

  /**
   * {@code inspect scheduled} ({@code Addresses.CONSUMER_SCHEDULED} reply): the requests held for
   * their ETA, earliest first.
   */
  public record Scheduled(List<Request> requests) {}

  /**
   * {@code inspect active} and {@code inspect reserved} ({@code Addresses.POOL_REQUESTS} reply):
   * the pool's requests as inspect shows them ({@code RequestInfo}).
   */
  public record PoolRequests(JsonArray active, JsonArray reserved) {

    /** The task ids of them all. */
    public Set<String> taskIds() {
      Set<String> known = new HashSet<>();
      for (JsonArray list : List.of(active, reserved)) {
        list.forEach(o -> known.add(String.valueOf(((JsonObject) o).getValue("id"))));
      }
      return known;
    }
  }
}

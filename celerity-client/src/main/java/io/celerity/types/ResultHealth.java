package io.celerity.types;

import io.vertx.core.json.JsonObject;

/**
 * Whether the result backend takes writes ({@code Addresses.RESULT_HEALTH} reply, shown by {@code
 * /ready}).
 *
 * @param up the last writes went through and a round trip succeeded now
 * @param writes the backend's write health ({@code UP}, {@code RETRYING}, ...)
 * @param writesRetrying writes being retried
 * @param ping the round trip succeeded
 * @param error why it is not up, or null
 */
public record ResultHealth(
    boolean up, String writes, long writesRetrying, boolean ping, String error) {

  /** Not up, because the result writer could not be asked. */
  public static ResultHealth unknown(String error) {
    return new ResultHealth(false, null, 0, false, error);
  }

  public JsonObject toJson() {
    JsonObject h = new JsonObject().put("up", up);
    if (writes != null) {
      h.put("writes", writes).put("writes_retrying", writesRetrying).put("ping", ping);
    }
    if (!up && error != null) {
      h.put("error", error);
    }
    return h;
  }
}

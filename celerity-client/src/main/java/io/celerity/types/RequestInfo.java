package io.celerity.types;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;

/**
 * Celery's request "info" object, as {@code inspect active/reserved/scheduled/query_task} show it.
 */
public final class RequestInfo {

  private RequestInfo() {}

  /**
   * @param timeStart epoch seconds the request started, or null
   * @param acknowledged whether its message was acked
   * @param workerPid pid running it, or null
   */
  public static JsonObject of(Request r, Double timeStart, boolean acknowledged, Long workerPid) {
    JsonObject delivery =
        new JsonObject()
            .put("exchange", r.delivery().exchange())
            .put("routing_key", r.delivery().routingKey())
            .put("priority", r.delivery().priority())
            .put("redelivered", r.delivery().redelivered());
    return new JsonObject()
        .put("id", r.id())
        .put("name", r.message().displayName())
        .put("args", new JsonArray(new ArrayList<>(r.message().args())))
        .put("kwargs", new JsonObject(new LinkedHashMap<>(r.message().kwargs())))
        .put("type", r.message().task())
        .put("hostname", r.hostname())
        .put("time_start", timeStart)
        .put("acknowledged", acknowledged)
        .put("delivery_info", delivery)
        .put("worker_pid", workerPid);
  }
}

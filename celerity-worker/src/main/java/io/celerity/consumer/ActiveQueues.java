package io.celerity.consumer;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Celery's {@code inspect active_queues} description of a task queue (kombu's {@code
 * Queue.as_dict(recurse=True)}).
 */
public final class ActiveQueues {

  private ActiveQueues() {}

  /**
   * A queue as this worker declares it: durable, bound to a direct exchange of the same name with
   * the queue name as routing key, {@code x-max-priority} when configured.
   */
  public static JsonObject describe(String queue, Integer maxPriority) {
    JsonObject exchange =
        new JsonObject()
            .put("name", queue)
            .put("type", "direct")
            .putNull("arguments")
            .put("durable", true)
            .put("passive", false)
            .put("auto_delete", false)
            .putNull("delivery_mode")
            .put("no_declare", false);
    return new JsonObject()
        .put("name", queue)
        .put("exchange", exchange)
        .put("routing_key", queue)
        .put(
            "queue_arguments",
            maxPriority == null ? null : new JsonObject().put("x-max-priority", maxPriority))
        .putNull("binding_arguments")
        .putNull("consumer_arguments")
        .put("durable", true)
        .put("exclusive", false)
        .put("auto_delete", false)
        .put("no_ack", false)
        .putNull("alias")
        .put("bindings", new JsonArray())
        .putNull("no_declare")
        .putNull("expires")
        .putNull("message_ttl")
        .putNull("max_length")
        .putNull("max_length_bytes")
        .putNull("max_priority");
  }
}

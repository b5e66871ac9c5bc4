package io.celerity.consumer;

import io.celerity.transport.Transport;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Flower's {@code active_queues} lengths: {@code [{"name", "messages"}]}, {@code messages} null
 * where the broker does not tell.
 */
final class QueueLengths {

  private QueueLengths() {}

  static Future<JsonArray> of(Transport transport) {
    List<String> names = transport.queues();
    List<Future<Long>> counts = new ArrayList<>();
    names.forEach(q -> counts.add(transport.messageCount(q)));
    return Future.join(counts)
        .transform(
            ar -> {
              JsonArray out = new JsonArray();
              for (int i = 0; i < names.size(); i++) {
                out.add(
                    new JsonObject()
                        .put("name", names.get(i))
                        .put(
                            "messages", counts.get(i).succeeded() ? counts.get(i).result() : null));
              }
              return Future.succeededFuture(out);
            });
  }
}

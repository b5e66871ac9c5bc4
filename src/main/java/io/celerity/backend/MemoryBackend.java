package io.celerity.backend;

import io.vertx.core.Future;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Results kept in the worker's memory, for the zero-setup demo: readable over the HTTP bridge,
 * never by another process. Bounded: the oldest entries go once {@code maxEntries} is reached.
 */
public class MemoryBackend implements ResultBackend {

  private final Map<String, Map<String, Object>> documents = new ConcurrentHashMap<>();
  private final java.util.concurrent.ConcurrentLinkedQueue<String> order = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final int maxEntries;

  public MemoryBackend(int maxEntries) {
    this.maxEntries = maxEntries;
  }

  @Override
  public Future<Void> store(TaskResult result) {
    Map<String, Object> current = documents.get(result.taskId());
    if (current != null && "SUCCESS".equals(current.get("status"))) {
      return Future.succeededFuture();
    }
    if (documents.put(result.taskId(), ResultDocuments.keyValueDocument(result)) == null) {
      order.add(result.taskId());
      while (documents.size() > maxEntries) {
        String oldest = order.poll();
        if (oldest == null) {
          break;
        }
        documents.remove(oldest);
      }
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<Map<String, Object>> get(String taskId) {
    return Future.succeededFuture(documents.get(taskId));
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }
}

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
  private final java.util.concurrent.ConcurrentLinkedQueue<String> order =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final int maxEntries;

  public MemoryBackend(int maxEntries) {
    this.maxEntries = maxEntries;
  }

  @Override
  public Future<Void> store(TaskResult result) {
    return put(result.taskId(), ResultDocuments.keyValueDocument(result));
  }

  @Override
  @SuppressWarnings("unchecked")
  public Future<Void> storeEncoded(EncodedState state) {
    Object doc;
    try {
      doc = io.celerity.protocol.Json.parse(state.document());
    } catch (java.io.IOException | RuntimeException e) {
      return Future.failedFuture(new IllegalArgumentException("not a JSON document", e));
    }
    if (!(doc instanceof Map<?, ?> m)) {
      return Future.failedFuture(new IllegalArgumentException("not a JSON object"));
    }
    return put(state.taskId(), (Map<String, Object>) m);
  }

  private Future<Void> put(String taskId, Map<String, Object> document) {
    Map<String, Object> current = documents.get(taskId);
    if (current != null && "SUCCESS".equals(current.get("status"))) {
      return Future.succeededFuture();
    }
    if (documents.put(taskId, document) == null) {
      order.add(taskId);
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

  /**
   * Chord counters, like Redis' .j sorted set (entries ordered by group_index) and .s; guarded by
   * {@code this}.
   */
  private final Map<String, java.util.TreeMap<String, Double>> chordParts =
      new java.util.HashMap<>();

  private final Map<String, Integer> chordSizes = new java.util.HashMap<>();

  @Override
  public boolean supportsChords() {
    return true;
  }

  @Override
  public synchronized Future<Void> setChordSize(String groupId, int size) {
    chordSizes.put(groupId, size);
    return Future.succeededFuture();
  }

  @Override
  public synchronized Future<ChordCount> addChordPart(
      String groupId, Integer groupIndex, String entry) {
    var parts = chordParts.computeIfAbsent(groupId, g -> new java.util.TreeMap<>());
    boolean added =
        parts.put(entry, groupIndex == null ? Double.POSITIVE_INFINITY : groupIndex) == null;
    Integer size = chordSizes.get(groupId);
    return Future.succeededFuture(
        new ChordCount(added, parts.size(), size == null ? null : (long) size, 0));
  }

  @Override
  public synchronized Future<java.util.List<String>> chordParts(String groupId) {
    var parts = chordParts.getOrDefault(groupId, new java.util.TreeMap<>());
    java.util.List<String> out = new java.util.ArrayList<>(parts.keySet());
    out.sort(
        java.util.Comparator.comparing(
            parts::get)); // stable: ties keep member order, as ZRANGE does
    return Future.succeededFuture(out);
  }

  @Override
  public synchronized Future<Void> deleteChord(String groupId) {
    chordParts.remove(groupId);
    chordSizes.remove(groupId);
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }
}

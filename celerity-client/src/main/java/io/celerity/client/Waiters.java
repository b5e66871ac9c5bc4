package io.celerity.client;

import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The promises waiting per task id, for the result sources (context-confined). */
final class Waiters {

  private final Map<String, List<Promise<Map<String, Object>>>> byId = new HashMap<>();

  /** Adds a waiter; true when it is the first for this id. */
  boolean add(String id, Promise<Map<String, Object>> p) {
    List<Promise<Map<String, Object>>> l = byId.computeIfAbsent(id, k -> new ArrayList<>());
    l.add(p);
    return l.size() == 1;
  }

  /** Removes a waiter; true when nobody waits for this id any more. */
  boolean remove(String id, Promise<Map<String, Object>> p) {
    List<Promise<Map<String, Object>>> l = byId.get(id);
    if (l == null) {
      return false;
    }
    l.remove(p);
    if (l.isEmpty()) {
      byId.remove(id);
      return true;
    }
    return false;
  }

  /** Completes every waiter of {@code id} with {@code doc}; true when there were any. */
  boolean complete(String id, Map<String, Object> doc) {
    List<Promise<Map<String, Object>>> l = byId.remove(id);
    if (l == null) {
      return false;
    }
    l.forEach(p -> p.tryComplete(doc));
    return true;
  }

  void fail(String id, Throwable err) {
    List<Promise<Map<String, Object>>> l = byId.remove(id);
    if (l != null) {
      l.forEach(p -> p.tryFail(err));
    }
  }

  void failAll(Throwable err) {
    for (String id : List.copyOf(byId.keySet())) {
      fail(id, err);
    }
  }

  boolean waitsFor(String id) {
    return byId.containsKey(id);
  }

  Set<String> ids() {
    return Set.copyOf(byId.keySet());
  }
}

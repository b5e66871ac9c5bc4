package io.celerity.types;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Celery's revoked set: task ids with the time they were revoked, at most {@link #DEFAULT_MAX} ids
 * (oldest dropped first), each kept for {@link #DEFAULT_EXPIRES_SECONDS}. Event-loop confined.
 */
public final class RevokedSet {

  public static final int DEFAULT_MAX = 50_000;
  public static final long DEFAULT_EXPIRES_SECONDS = 10_800;

  private final int max;
  private final long expiresMillis;

  /** id -> epoch millis of the revoke, in insertion order. */
  private final LinkedHashMap<String, Long> ids = new LinkedHashMap<>();

  public RevokedSet() {
    this(DEFAULT_MAX, DEFAULT_EXPIRES_SECONDS);
  }

  public RevokedSet(int max, long expiresSeconds) {
    this.max = max;
    this.expiresMillis = expiresSeconds * 1000;
  }

  public void add(String id) {
    add(id, System.currentTimeMillis());
  }

  public void add(String id, long epochMillis) {
    ids.remove(id);
    ids.put(id, epochMillis);
    while (ids.size() > max) {
      Iterator<String> it = ids.keySet().iterator();
      it.next();
      it.remove();
    }
  }

  public boolean contains(String id) {
    Long at = ids.get(id);
    if (at == null) {
      return false;
    }
    if (System.currentTimeMillis() - at > expiresMillis) {
      ids.remove(id);
      return false;
    }
    return true;
  }

  /** Drops expired entries. */
  public void purge() {
    long now = System.currentTimeMillis();
    ids.values().removeIf(at -> now - at > expiresMillis);
  }

  public List<String> ids() {
    purge();
    return new ArrayList<>(ids.keySet());
  }

  /** A copy of the entries (id -> epoch millis), for the state file. */
  public Map<String, Long> snapshot() {
    purge();
    return new LinkedHashMap<>(ids);
  }

  public int size() {
    return ids.size();
  }
}

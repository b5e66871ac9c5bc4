package io.celerity.backend;

import io.vertx.core.Future;

/** Where task states and results go (Celery's {@code result_backend}). */
public interface ResultBackend {

  /** Stores a state change; completes once the store has it. */
  Future<Void> store(TaskResult result);

  /**
   * Stores a state another process encoded in Celery's key-value layout, under its key, with {@link
   * #store}'s check that a stored SUCCESS is kept and its publish; only backends with that layout
   * (Redis) take it.
   */
  default Future<Void> storeEncoded(EncodedState state) {
    return Future.failedFuture(
        new IllegalArgumentException("this result backend does not take encoded states"));
  }

  /** The stored document of a task as a client would read it, or null (PENDING). */
  Future<java.util.Map<String, Object>> get(String taskId);

  Future<Void> close();

  /**
   * Whether a failed {@link #store} may succeed when tried again (the backend was unreachable), as
   * opposed to a write that can never succeed (the result cannot be encoded).
   */
  default boolean retryable(Throwable err) {
    return !(err instanceof IllegalArgumentException);
  }

  /**
   * A round trip to the backend, for {@code /ready}; backends without a server of their own just
   * succeed.
   */
  default Future<Void> ping() {
    return Future.succeededFuture();
  }

  /**
   * Completes once the backend answers a round trip, or fails once the write retry policy is used
   * up waiting for one; without a policy, one {@link #ping()}.
   */
  default Future<Void> awaitReachable() {
    return ping();
  }

  /** True when states are kept at all (false for a worker without a result backend). */
  default boolean enabled() {
    return true;
  }

  /**
   * True when this backend can join chords itself (Celery's Redis layout); else chords cannot
   * complete.
   */
  default boolean supportsChords() {
    return false;
  }

  /**
   * Stores a chord's size ({@code celery-taskset-meta-<gid>.s}), as the client does before sending
   * the header.
   */
  default Future<Void> setChordSize(String groupId, int size) {
    return Future.failedFuture(noChords());
  }

  /**
   * Records one finished header task atomically: adds {@code entry} (Celery's JSON {@code [1,
   * task_id, state, result]}) with score {@code groupIndex} (null = +inf) and reads the counters.
   */
  default Future<ChordCount> addChordPart(String groupId, Integer groupIndex, String entry) {
    return Future.failedFuture(noChords());
  }

  /** The recorded entries of a chord in group_index order, as JSON texts. */
  default Future<java.util.List<String>> chordParts(String groupId) {
    return Future.failedFuture(noChords());
  }

  /**
   * A GroupResult saved by a client ({@code celery-taskset-meta-<gid>}): its result tuple, or null.
   */
  default Future<Object> savedGroup(String groupId) {
    return Future.succeededFuture(null);
  }

  /** Removes a completed chord's counters. */
  default Future<Void> deleteChord(String groupId) {
    return Future.succeededFuture();
  }

  private UnsupportedOperationException noChords() {
    return new UnsupportedOperationException(
        "chords need a result backend that supports them (redis://), not "
            + getClass().getSimpleName());
  }
}

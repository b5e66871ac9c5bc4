package io.celerity.client;

import io.celerity.protocol.States;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.Map;

/**
 * Where the client learns task states: Redis pub/sub, an rpc:// reply queue, or nowhere. Every
 * method runs on the client's context.
 */
interface ResultSource {

  /** Ready once the source listens (the reply queue exists before the first task is sent). */
  Future<Void> start();

  /**
   * Completes {@code ready} with the result document ({@code status}, {@code result}, {@code
   * traceback}, ...) once the task is in a ready state (SUCCESS, FAILURE, REVOKED).
   */
  void await(String taskId, Promise<Map<String, Object>> ready);

  /** Stops waiting with {@code ready} (its caller gave up); nothing leaks for abandoned waits. */
  void forget(String taskId, Promise<Map<String, Object>> ready);

  /** The latest document known for the task, or null (PENDING). */
  Future<Map<String, Object>> current(String taskId);

  /**
   * Stores the chord sizes a chord needs before its header is sent; fails where chords cannot be
   * joined.
   */
  Future<Void> setChordSize(String groupId, int size);

  Future<Void> close();

  static boolean isReady(Map<String, Object> doc) {
    return doc != null && States.READY.contains(String.valueOf(doc.get("status")));
  }
}

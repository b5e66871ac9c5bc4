package io.celerity.backend;

import io.vertx.core.Future;

/** Where task states and results go (Celery's {@code result_backend}). */
public interface ResultBackend {

  /** Stores a state change; completes once the store has it. */
  Future<Void> store(TaskResult result);

  /** The stored document of a task as a client would read it, or null (PENDING). */
  Future<java.util.Map<String, Object>> get(String taskId);

  Future<Void> close();

  /** True when states are kept at all (false for a worker without a result backend). */
  default boolean enabled() {
    return true;
  }
}

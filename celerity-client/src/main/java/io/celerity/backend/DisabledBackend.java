package io.celerity.backend;

import io.vertx.core.Future;
import java.util.Map;

/** No result backend configured: states are not kept (Celery's {@code DisabledBackend}). */
public class DisabledBackend implements ResultBackend {

  @Override
  public Future<Void> store(TaskResult result) {
    return Future.succeededFuture();
  }

  @Override
  public Future<Map<String, Object>> get(String taskId) {
    return Future.succeededFuture(null);
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }

  @Override
  public boolean enabled() {
    return false;
  }
}

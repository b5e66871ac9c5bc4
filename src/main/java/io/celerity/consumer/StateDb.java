package io.celerity.consumer;

import io.celerity.protocol.Json;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code --statedb FILE}: the revoked ids kept across restarts. Celery's file is a Python shelve
 * only Python can read and nobody else reads it, so ours is JSON with the same content:
 * {@code {"revoked": {id: epoch_millis}, "clock": n}}. Written atomically (temp file + move).
 */
public final class StateDb {

  private final Vertx vertx;
  private final String path;

  public StateDb(Vertx vertx, String path) {
    this.vertx = vertx;
    this.path = path;
  }

  /** Loads the revoked ids into {@code into}; a missing file is an empty state. */
  @SuppressWarnings("unchecked")
  public Future<Void> load(RevokedSet into) {
    return vertx.fileSystem().exists(path).compose(exists -> {
      if (!exists) {
        return Future.succeededFuture();
      }
      return vertx.fileSystem().readFile(path).map(buf -> {
        try {
          Map<String, Object> state = (Map<String, Object>) Json.parse(buf.getBytes());
          Map<String, Object> revoked = (Map<String, Object>) state.getOrDefault("revoked", Map.of());
          revoked.forEach((id, at) -> into.add(id, ((Number) at).longValue()));
          into.purge();
          return null;
        } catch (IOException | ClassCastException e) {
          throw new IllegalStateException("state file " + path + " is not a Celerity state file: " + e.getMessage(), e);
        }
      });
    });
  }

  public Future<Void> save(RevokedSet revoked, long clock) {
    Map<String, Object> state = new LinkedHashMap<>();
    state.put("revoked", revoked.snapshot());
    state.put("clock", clock);
    String tmp = path + ".tmp";
    return vertx.fileSystem().writeFile(tmp, Buffer.buffer(Json.encode(state)))
      .compose(v -> vertx.fileSystem().move(tmp, path, new io.vertx.core.file.CopyOptions().setReplaceExisting(true)));
  }
}

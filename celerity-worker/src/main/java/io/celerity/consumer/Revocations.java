package io.celerity.consumer;

import io.celerity.types.Request;
import io.celerity.types.RevokedSet;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Celery's revoked ids ({@code worker.state.revoked}) and, with {@code --statedb}, the file that
 * keeps them across restarts. Event-loop confined.
 */
final class Revocations {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.strategy");

  private final RevokedSet revoked = new RevokedSet();
  private final StateDb stateDb;
  private final String statePath;

  /**
   * @param statePath the {@code --statedb} file, or null to keep the ids in memory only
   */
  Revocations(Vertx vertx, String statePath) {
    this.statePath = statePath;
    this.stateDb = statePath == null ? null : new StateDb(vertx, statePath);
  }

  /** Reads the state file, if there is one. */
  Future<Void> load() {
    if (stateDb == null) {
      return Future.succeededFuture();
    }
    return stateDb
        .load(revoked)
        .onSuccess(
            v -> log.info("Loaded {} revoked task id(s) from {}", revoked.size(), statePath));
  }

  /**
   * Celery's revocation check: why the request must not run ("expired" or "revoked"), or null. An
   * expired request's id joins the revoked ids, as in Celery.
   */
  String discardReason(Request request, Instant now) {
    Instant expires = request.message().expires();
    if (expires != null && !expires.isAfter(now)) {
      revoked.add(request.id());
      return "expired";
    }
    return revoked.contains(request.id()) ? "revoked" : null;
  }

  /**
   * Remembers revoked ids and saves them (a failed write is logged: the ids stay revoked in
   * memory).
   */
  void revoke(Collection<String> ids) {
    ids.forEach(revoked::add);
    save();
  }

  /** Writes the state file; completes when written, or failed and logged. */
  Future<Void> save() {
    if (stateDb == null) {
      return Future.succeededFuture();
    }
    return stateDb
        .save(revoked, 0)
        .recover(
            err -> {
              log.error("Cannot write state file {}: {}", statePath, err.getMessage());
              return Future.succeededFuture();
            });
  }

  int size() {
    return revoked.size();
  }

  /** id -> epoch millis of the revoke, oldest first. */
  Map<String, Long> snapshot() {
    return revoked.snapshot();
  }
}

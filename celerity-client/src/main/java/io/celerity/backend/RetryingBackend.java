package io.celerity.backend;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retries result writes ({@link #store}) the way Celery's backends do ({@link WriteRetryPolicy}),
 * waiting on event-loop timers, never blocking. Keeps the backend's health for {@code /ready}: a
 * write that failed (and is being retried, or was given up) makes it unhealthy until a write goes
 * through again. Other operations are passed through. Confined to the result-reader's event loop.
 */
public final class RetryingBackend implements ResultBackend {

  /** Health of the backend as result writes see it. */
  public enum Health {
    UP,
    RETRYING,
    DOWN
  }

  /** Told about retries and writes given up (metrics). */
  public interface Listener {
    void retried();

    void gaveUp();
  }

  private static final Logger log = LoggerFactory.getLogger("celery.backends");

  private final Vertx vertx;
  private final ResultBackend delegate;
  private final WriteRetryPolicy policy;
  private final Listener listener;
  private Health health = Health.UP;
  private String lastError;
  private int retrying;
  private long retries;
  private long gaveUp;

  public RetryingBackend(
      Vertx vertx, ResultBackend delegate, WriteRetryPolicy policy, Listener listener) {
    this.vertx = vertx;
    this.delegate = delegate;
    this.policy = policy;
    this.listener = listener;
  }

  @Override
  public Future<Void> store(TaskResult result) {
    Promise<Void> done = Promise.promise();
    attempt(new Write(result.taskId(), result.status(), () -> delegate.store(result)), 0, 0, done);
    return done.future();
  }

  @Override
  public Future<Void> storeEncoded(EncodedState state) {
    Promise<Void> done = Promise.promise();
    attempt(
        new Write(state.taskId(), state.status(), () -> delegate.storeEncoded(state)), 0, 0, done);
    return done.future();
  }

  /** One store, tried again under the policy. */
  private record Write(
      String taskId, String status, java.util.function.Supplier<Future<Void>> attempt) {}

  private void attempt(Write result, int inner, long outer, Promise<Void> done) {
    Future<Void> f;
    try {
      f = result.attempt().get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onComplete(
        ar -> {
          boolean wasRetry = inner > 0 || outer > 0;
          if (ar.succeeded()) {
            if (wasRetry) {
              retrying--;
            }
            if (health != Health.UP) {
              log.info("Result backend is reachable again");
            }
            health = retrying > 0 ? Health.RETRYING : Health.UP;
            done.complete();
            return;
          }
          Throwable err = ar.cause();
          if (!delegate.retryable(err)) {
            if (wasRetry) {
              retrying--;
              settleHealth(err);
            }
            done.fail(err);
            return;
          }
          long delay;
          int nextInner = inner + 1;
          long nextOuter = outer;
          if (policy.innerRetryLeft(inner)) {
            delay = policy.innerDelayMillis(inner);
          } else if (policy.outerRetryLeft(outer)) {
            nextInner = 0;
            nextOuter = outer + 1;
            delay = policy.outerDelayMillis(nextOuter);
          } else {
            if (wasRetry) {
              retrying--;
            }
            gaveUp++;
            listener.gaveUp();
            settleHealth(err);
            done.fail(err);
            return;
          }
          if (!wasRetry) {
            retrying++;
            log.warn(
                "Cannot store the result of task {} ({}): {}; retrying ({} retries, the first in {} ms)",
                result.taskId(),
                result.status(),
                err.getMessage(),
                policy.maxRetries() < 0 ? "unlimited" : policy.maxRetries(),
                delay);
          } else if (log.isDebugEnabled()) {
            log.debug(
                "Result of task {}: retry {}/{} in {} ms: {}",
                result.taskId(),
                nextInner,
                policy.maxRetries(),
                delay,
                err.getMessage());
          }
          health = Health.RETRYING;
          lastError = err.getMessage();
          retries++;
          listener.retried();
          int ni = nextInner;
          long no = nextOuter;
          vertx.setTimer(Math.max(1, delay), id -> attempt(result, ni, no, done));
        });
  }

  private void settleHealth(Throwable err) {
    lastError = err.getMessage();
    health = retrying > 0 ? Health.RETRYING : Health.DOWN;
  }

  /** UP, RETRYING (writes failing and being retried) or DOWN (the last write was given up). */
  public Health health() {
    return health;
  }

  public String lastError() {
    return lastError;
  }

  /** Writes being retried now. */
  public int retrying() {
    return retrying;
  }

  /** Retries of result writes so far. */
  public long retries() {
    return retries;
  }

  /** Result writes given up so far. */
  public long gaveUp() {
    return gaveUp;
  }

  @Override
  public Future<Void> ping() {
    return delegate.ping();
  }

  /** Pings with the inner loop of the write retry policy (its waits and max_retries), on timers. */
  @Override
  public Future<Void> awaitReachable() {
    Promise<Void> done = Promise.promise();
    pingUntilUp(0, done);
    return done.future();
  }

  private void pingUntilUp(int retries, Promise<Void> done) {
    delegate
        .ping()
        .onComplete(
            ar -> {
              if (ar.succeeded() || !policy.innerRetryLeft(retries)) {
                done.handle(ar);
              } else {
                vertx.setTimer(
                    Math.max(1, policy.innerDelayMillis(retries)),
                    id -> pingUntilUp(retries + 1, done));
              }
            });
  }

  @Override
  public boolean retryable(Throwable err) {
    return delegate.retryable(err);
  }

  @Override
  public Future<Map<String, Object>> get(String taskId) {
    return delegate.get(taskId);
  }

  @Override
  public Future<Void> close() {
    return delegate.close();
  }

  @Override
  public boolean enabled() {
    return delegate.enabled();
  }

  @Override
  public boolean supportsChords() {
    return delegate.supportsChords();
  }

  @Override
  public Future<Void> setChordSize(String groupId, int size) {
    return delegate.setChordSize(groupId, size);
  }

  @Override
  public Future<ChordCount> addChordPart(String groupId, Integer groupIndex, String entry) {
    return delegate.addChordPart(groupId, groupIndex, entry);
  }

  @Override
  public Future<List<String>> chordParts(String groupId) {
    return delegate.chordParts(groupId);
  }

  @Override
  public Future<Object> savedGroup(String groupId) {
    return delegate.savedGroup(groupId);
  }

  @Override
  public Future<Void> deleteChord(String groupId) {
    return delegate.deleteChord(groupId);
  }
}

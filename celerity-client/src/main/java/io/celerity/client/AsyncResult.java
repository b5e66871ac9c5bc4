package io.celerity.client;

import io.celerity.protocol.Json;
import io.celerity.protocol.States;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Celery's {@code AsyncResult}: the handle of a task sent, to wait for its value, read its state or
 * revoke it. Thread-safe. The blocking methods refuse to run on a Vert.x event loop; Vert.x code
 * uses the {@code Future} variants.
 */
public final class AsyncResult {

  private final CelerityClient client;
  private final String id;

  /** The ready document once seen: a finished task does not change. */
  private volatile Map<String, Object> ready;

  AsyncResult(CelerityClient client, String id) {
    this.client = client;
    this.id = id;
  }

  public String id() {
    return id;
  }

  /**
   * The task's return value once it is ready: fails with {@link TaskFailedException} when it failed
   * or was revoked. Waits as long as it takes; see {@link #result(Duration)}.
   */
  public Future<Object> result() {
    return result(null);
  }

  /**
   * {@link #result()} failing with {@link ResultTimeoutException} when not ready within {@code
   * timeout}.
   */
  public Future<Object> result(Duration timeout) {
    Map<String, Object> doc = ready;
    Future<Map<String, Object>> f =
        doc != null ? Future.succeededFuture(doc) : client.whenReady(id, timeout);
    return f.compose(
        d -> {
          ready = d;
          return value(id, d);
        });
  }

  /**
   * The full ready document ({@code status}, {@code result}, {@code traceback}, {@code children},
   * ...).
   */
  public Future<Map<String, Object>> document(Duration timeout) {
    Map<String, Object> doc = ready;
    return doc != null
        ? Future.succeededFuture(doc)
        : client.whenReady(id, timeout).onSuccess(d -> ready = d);
  }

  /**
   * Celery's {@code result.get(timeout=...)}: the value, or the task's exception re-raised as a
   * {@link TaskFailedException}.
   *
   * @throws ResultTimeoutException when the task is not ready within {@code timeout}
   * @throws IllegalStateException on a Vert.x event-loop thread
   */
  public Object get(Duration timeout) {
    Blocking.refuseOnEventLoop("AsyncResult.get()");
    try {
      return Blocking.await(result(timeout), timeout.plusSeconds(5), "AsyncResult.get()");
    } catch (TimeoutException e) {
      throw new ResultTimeoutException(id, timeout);
    }
  }

  /**
   * {@link #get(Duration)} converted to {@code type} (JSON numbers, lists and objects to Java
   * types).
   */
  public <T> T get(Duration timeout, Class<T> type) {
    return Json.MAPPER.convertValue(get(timeout), type);
  }

  /**
   * Celery's {@code result.state}: PENDING until the backend knows more (STARTED, RETRY, SUCCESS,
   * ...).
   */
  public Future<String> stateAsync() {
    Map<String, Object> doc = ready;
    if (doc != null) {
      return Future.succeededFuture(String.valueOf(doc.get("status")));
    }
    return client
        .currentState(id)
        .map(
            d -> {
              if (ResultSource.isReady(d)) {
                ready = d;
              }
              return d == null || d.get("status") == null
                  ? States.PENDING
                  : d.get("status").toString();
            });
  }

  public String state() {
    return Blocking.awaitOrFail(stateAsync(), Duration.ofSeconds(30), "AsyncResult.state()");
  }

  /** Celery's {@code result.ready()}: SUCCESS, FAILURE or REVOKED. */
  public boolean ready() {
    return States.READY.contains(state());
  }

  public boolean successful() {
    return States.SUCCESS.equals(state());
  }

  public boolean failed() {
    return States.FAILURE.equals(state());
  }

  /**
   * Celery's {@code result.revoke(terminate=...)}: every worker drops the task if it has not
   * started; with {@code terminate} a running one is killed ({@code SIGTERM}).
   */
  public Future<Void> revokeAsync(boolean terminate) {
    return client.revokeAsync(List.of(id), terminate, null);
  }

  public void revoke(boolean terminate) {
    Blocking.awaitOrFail(revokeAsync(terminate), Duration.ofSeconds(30), "AsyncResult.revoke()");
  }

  /** The value of a ready document, or its exception. */
  static Future<Object> value(String id, Map<String, Object> doc) {
    String status = String.valueOf(doc.get("status"));
    if (States.SUCCESS.equals(status)) {
      return Future.succeededFuture(doc.get("result"));
    }
    return Future.failedFuture(
        TaskFailedException.of(id, status, doc.get("result"), doc.get("traceback")));
  }

  @Override
  public String toString() {
    return "<AsyncResult: " + id + ">";
  }
}

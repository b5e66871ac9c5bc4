package io.celerity.client;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * Celery's {@code GroupResult}: the results of a group's tasks, in the group's order. {@link #get}
 * waits for all of them and, like Celery's {@code join}, raises the exception of the first failed
 * task in that order.
 */
public final class GroupResult {

  private final CelerityClient client;
  private final String id;
  private final List<AsyncResult> results;

  GroupResult(CelerityClient client, String id, List<AsyncResult> results) {
    this.client = client;
    this.id = id;
    this.results = List.copyOf(results);
  }

  /** The group id (every member's {@code group} header). */
  public String id() {
    return id;
  }

  public List<AsyncResult> results() {
    return results;
  }

  /**
   * Every member's value in order; fails with the first failed member's {@link
   * TaskFailedException}.
   */
  public Future<List<Object>> result(Duration timeout) {
    List<Future<Object>> each = new ArrayList<>(results.size());
    results.forEach(r -> each.add(r.result(timeout)));
    return Future.join(each)
        .transform(
            ar -> {
              List<Object> values = new ArrayList<>(each.size());
              for (Future<Object> f : each) {
                if (f.failed()) {
                  return Future.failedFuture(f.cause());
                }
                values.add(f.result());
              }
              return Future.succeededFuture(values);
            });
  }

  /** Celery's {@code group_result.get(timeout=...)}. */
  public List<Object> get(Duration timeout) {
    Blocking.refuseOnEventLoop("GroupResult.get()");
    try {
      return Blocking.await(result(timeout), timeout.plusSeconds(5), "GroupResult.get()");
    } catch (TimeoutException e) {
      throw new ResultTimeoutException(id, timeout);
    }
  }

  /** True once every member is ready. */
  public boolean ready() {
    return results.stream().allMatch(AsyncResult::ready);
  }

  /** How many members succeeded. */
  public int completedCount() {
    return (int) results.stream().filter(AsyncResult::successful).count();
  }

  /** Revokes every member. */
  public Future<Void> revokeAsync(boolean terminate) {
    return client.revokeAsync(results.stream().map(AsyncResult::id).toList(), terminate, null);
  }

  public void revoke(boolean terminate) {
    Blocking.awaitOrFail(revokeAsync(terminate), Duration.ofSeconds(30), "GroupResult.revoke()");
  }

  @Override
  public String toString() {
    return "<GroupResult: " + id + " " + results.stream().map(AsyncResult::id).toList() + ">";
  }
}

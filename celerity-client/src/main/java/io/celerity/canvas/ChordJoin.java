package io.celerity.canvas;

import io.celerity.backend.ResultBackend;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.States;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Joining a chord header's results, with Celery's rule that a failed or revoked member fails the
 * chord.
 */
final class ChordJoin {

  private ChordJoin() {}

  /** A header member failed: Celery's {@code ChordError("Dependency <id> raised <repr>")}. */
  static final class DependencyFailed extends RuntimeException {
    private final transient ExceptionInfo info;

    DependencyFailed(String taskId, Object encodedException) {
      super("Dependency " + taskId + " raised " + repr(encodedException), null, false, false);
      this.info = ExceptionInfo.of(ExceptionInfo.CELERY_EXCEPTIONS, "ChordError", getMessage());
    }

    ExceptionInfo info() {
      return info;
    }
  }

  /**
   * The {@code .j} entries {@code [1, task_id, state, result]} in order, to the list of results.
   */
  static List<Object> decode(List<String> entries) {
    List<Object> values = new ArrayList<>(entries.size());
    for (String e : entries) {
      if (!(CanvasDuties.parse(e) instanceof List<?> t) || t.size() < 4) {
        throw new IllegalStateException(
            "chord entry is not [1, id, state, result]: " + Signature.abbreviate(e));
      }
      values.add(value(String.valueOf(t.get(1)), String.valueOf(t.get(2)), t.get(3)));
    }
    return values;
  }

  private static Object value(String taskId, String state, Object result) {
    if (States.FAILURE.equals(state) || States.REVOKED.equals(state)) {
      throw new DependencyFailed(taskId, result);
    }
    return result;
  }

  /**
   * Joins a GroupResult saved by the client (complex headers): each leaf's stored document, nested
   * groups as nested lists. A member without a final state yet is a join error.
   */
  static Future<List<Object>> joinSaved(ResultBackend backend, Object saved) {
    if (!(saved instanceof List<?> tuple)
        || tuple.size() < 2
        || !(tuple.get(1) instanceof List<?> members)) {
      return Future.failedFuture(
          new IllegalStateException("saved group is not a group result tuple"));
    }
    List<Future<Object>> parts = new ArrayList<>();
    for (Object member : members) {
      parts.add(joinOne(backend, member));
    }
    // wait for all, so "not ready yet" wins over a failure seen first (Celery checks ready() before
    // joining)
    return Future.join(parts)
        .transform(
            ar -> {
              for (Future<Object> p : parts) {
                if (p.failed() && p.cause() instanceof NotReady) {
                  return Future.failedFuture(p.cause());
                }
              }
              List<Object> out = new ArrayList<>();
              for (Future<Object> p : parts) {
                if (p.failed()) {
                  return Future.failedFuture(p.cause());
                }
                out.add(p.result());
              }
              return Future.succeededFuture(out);
            });
  }

  /** A header member has no final state yet. */
  static final class NotReady extends RuntimeException {
    NotReady(String message) {
      super(message, null, false, false);
    }
  }

  private static Future<Object> joinOne(ResultBackend backend, Object tuple) {
    if (tuple instanceof List<?> t && t.size() == 2 && t.get(1) instanceof List<?>) {
      return joinSaved(backend, tuple).map(l -> l);
    }
    if (!(tuple instanceof List<?> t)
        || t.isEmpty()
        || !(t.get(0) instanceof List<?> idAndParent)
        || idAndParent.isEmpty()) {
      return Future.failedFuture(new IllegalStateException("bad result tuple " + tuple));
    }
    String id = String.valueOf(idAndParent.get(0));
    return backend
        .get(id)
        .map(
            doc -> {
              String state = doc == null ? States.PENDING : String.valueOf(doc.get("status"));
              if (!States.SUCCESS.equals(state)
                  && !States.FAILURE.equals(state)
                  && !States.REVOKED.equals(state)) {
                throw new NotReady("header task " + id + " is " + state);
              }
              return value(id, state, doc.get("result"));
            });
  }

  /** Python's repr of a decoded exception, e.g. {@code ValueError('kaboom')}. */
  static String repr(Object encoded) {
    if (encoded instanceof Map<?, ?> m && m.get("exc_type") != null) {
      Object msg = m.get("exc_message");
      List<Object> args =
          msg instanceof List<?> l ? new ArrayList<>(l) : msg == null ? List.of() : List.of(msg);
      return new ExceptionInfo(
              String.valueOf(m.get("exc_type")), (String) m.get("exc_module"), args, null)
          .repr();
    }
    return String.valueOf(encoded);
  }
}

package io.celerity.canvas;

import io.celerity.backend.MemoryBackend;
import io.celerity.backend.TaskResult;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.Json;
import io.celerity.protocol.States;
import io.celerity.protocol.TaskMessage;
import io.celerity.task.Replace;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A worker in miniature for canvas unit tests: runs every published message through a Java body and
 * {@link CanvasDuties}, in the order ResultRecorder uses (callbacks/chain, SUCCESS, chord part),
 * until nothing is left. Everything completes synchronously (MemoryBackend, collecting publisher).
 */
final class CanvasRun {

  /** Makes the backend throw (not fail a future) when a chord size is written. */
  boolean sizeThrows;

  final MemoryBackend backend =
      new MemoryBackend(10_000) {
        @Override
        public synchronized Future<Void> setChordSize(String groupId, int size) {
          if (sizeThrows) {
            throw new IllegalStateException("backend bug writing chord size");
          }
          return super.setChordSize(groupId, size);
        }
      };
  final Deque<OutgoingMessage> queue = new ArrayDeque<>();
  final List<OutgoingMessage> published = new ArrayList<>();
  final Map<String, TaskResult> stored = new LinkedHashMap<>();
  final Map<String, Function<List<Object>, Object>> bodies = new LinkedHashMap<>();
  final CanvasDuties duties;

  /** Makes the publisher refuse messages for this task name. */
  String refuse;

  @SuppressWarnings("unchecked")
  CanvasRun() {
    duties =
        new CanvasDuties(
            backend,
            this::publish,
            r -> {
              stored.put(r.taskId(), r);
              return backend.store(r);
            },
            "gen1@test",
            "q");
    bodies.put("t.add", a -> ((Number) a.get(0)).intValue() + ((Number) a.get(1)).intValue());
    bodies.put("t.mul", a -> ((Number) a.get(0)).intValue() * ((Number) a.get(1)).intValue());
    bodies.put(
        "t.xsum", a -> ((List<?>) a.get(0)).stream().mapToInt(x -> ((Number) x).intValue()).sum());
    bodies.put("t.echo", a -> a.get(0));
    bodies.put("t.none", a -> null);
    bodies.put(
        "t.fail",
        a -> {
          throw new IllegalArgumentException("boom");
        });
    bodies.put(Builtins.ACCUMULATE, a -> a.get(0)); // as replace uses it: accumulate.s(index=0)
    bodies.put(
        "t.replace",
        a -> {
          throw new Replace((Map<String, Object>) a.get(0));
        });
  }

  private Future<Void> publish(OutgoingMessage m) {
    if (refuse != null && refuse.equals(m.headers().get("task"))) {
      return Future.failedFuture(new IllegalStateException("broker refused " + refuse));
    }
    published.add(m);
    queue.add(m);
    return Future.succeededFuture();
  }

  /** Starts a Java-built canvas and runs it to the end. */
  void run(Signature sig) {
    duties.send(Launch.of(sig, "gen1@test", "q"));
    drain();
  }

  Object value(String id) {
    TaskResult r = stored.get(id);
    if (r == null) {
      throw new AssertionError("no result for " + id + "; stored " + stored.keySet());
    }
    return r.result();
  }

  void drain() {
    int guard = 0;
    while (!queue.isEmpty()) {
      if (++guard > 1000) {
        throw new AssertionError("runaway canvas");
      }
      execute(message(queue.poll()));
    }
  }

  /** What the worker decodes from a message we published. */
  @SuppressWarnings("unchecked")
  static TaskMessage message(OutgoingMessage m) {
    List<Object> body;
    try {
      body = (List<Object>) Json.parse(m.body());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    Map<String, Object> h = m.headers();
    return TaskMessage.builder((String) h.get("id"), (String) h.get("task"))
        .args((List<Object>) body.get(0))
        .kwargs((Map<String, Object>) body.get(1))
        .embed((Map<String, Object>) body.get(2))
        .headers(h)
        .correlationId((String) m.properties().get("correlation_id"))
        .replyTo((String) m.properties().get("reply_to"))
        .priority(0)
        .build();
  }

  private void execute(TaskMessage m) {
    Function<List<Object>, Object> body = bodies.get(m.task());
    Object value;
    try {
      if (body == null) {
        throw new IllegalStateException("no body for " + m.task());
      }
      value = body.apply(m.args());
    } catch (Replace r) {
      duties
          .replace(m, Signature.from(r.excArgs().get(1)))
          .onFailure(err -> fail(m, ExceptionInfo.from(err)));
      return;
    } catch (RuntimeException e) {
      fail(m, ExceptionInfo.from(e));
      return;
    }
    duties
        .afterSuccess(m, value, "", "q")
        .onComplete(
            ar -> {
              if (ar.failed()) {
                fail(
                    m,
                    ar.cause() instanceof CanvasDuties.CanvasError ce
                        ? ce.info()
                        : ExceptionInfo.from(ar.cause()));
                return;
              }
              stored.put(
                  m.id(),
                  TaskResult.builder(m.id(), States.SUCCESS)
                      .result(value)
                      .children(ar.result())
                      .groupId(m.group())
                      .parentId(m.parentId())
                      .build());
              backend.store(stored.get(m.id()));
              duties.chordPart(m, States.SUCCESS, value);
            });
  }

  private void fail(TaskMessage m, ExceptionInfo e) {
    TaskResult r =
        TaskResult.builder(m.id(), States.FAILURE)
            .result(e.toResult())
            .groupId(m.group())
            .parentId(m.parentId())
            .build();
    stored.put(m.id(), r);
    backend.store(r);
    duties.afterFailure(m, e);
  }
}

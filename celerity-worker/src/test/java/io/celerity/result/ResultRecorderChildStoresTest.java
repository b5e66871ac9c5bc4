package io.celerity.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.backend.EncodedState;
import io.celerity.backend.MemoryBackend;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.PyRepr;
import io.celerity.protocol.States;
import io.celerity.types.Request;
import io.celerity.types.Settle;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: a Python child's tracer hands the task's final state over (child_defer_stores); the
 * worker writes it and settles the message only once it is stored.
 */
class ResultRecorderChildStoresTest {

  private final List<Settle> settled = new ArrayList<>();

  private static Request request(String id, boolean acksLate) {
    return TestRequests.request(id, null, acksLate);
  }

  private static EncodedState state(String id, String status) {
    return new EncodedState(
        id,
        status,
        "celery-task-meta-" + id,
        "{\"status\": \"" + status + "\", \"result\": 3, \"task_id\": \"" + id + "\"}",
        86400);
  }

  private ResultRecorder recorder(io.celerity.backend.ResultBackend backend) {
    return new ResultRecorder(
        backend, settled::add, m -> Future.succeededFuture(), false, "w@h", "q");
  }

  @Test
  void theHandedOverStateIsStoredBeforeTheMessageIsAcked() {
    Promise<Void> write = Promise.promise();
    List<EncodedState> writes = new ArrayList<>();
    MemoryBackend memory = new MemoryBackend(10);
    MemoryBackend backend =
        new MemoryBackend(10) {
          @Override
          public Future<Void> storeEncoded(EncodedState s) {
            writes.add(s);
            return write.future().compose(v -> memory.storeEncoded(s));
          }
        };
    ResultRecorder rec = recorder(backend);
    Request r = request("t-1", true);
    Future<Void> done =
        rec.finished(
            TaskOutcome.tracedByChild(
                r,
                States.SUCCESS,
                new PyRepr.Repr("3"),
                null,
                0.01,
                null,
                List.of(state("t-1", States.SUCCESS))));
    assertEquals(List.of(state("t-1", States.SUCCESS)), writes, "the child's key and document");
    assertTrue(settled.isEmpty(), "not acked while the state is being written");
    assertFalse(rec.whenIdle().isComplete(), "a warm shutdown waits for the write");
    write.complete();
    assertTrue(done.succeeded());
    assertEquals(List.of(Settle.ack(r.delivery())), settled);
    assertEquals(States.SUCCESS, memory.get("t-1").result().get("status"));
    assertEquals(1, rec.succeeded());
  }

  @Test
  void aStoredSuccessIsKept() {
    MemoryBackend backend = new MemoryBackend(10);
    ResultRecorder rec = recorder(backend);
    backend.storeEncoded(state("t-2", States.SUCCESS));
    Request r = request("t-2", true);
    rec.finished(
        TaskOutcome.tracedByChild(
            r,
            States.FAILURE,
            null,
            new ExceptionInfo("KeyError", "builtins", List.of("k"), null),
            0.01,
            null,
            List.of(state("t-2", States.FAILURE))));
    assertEquals(States.SUCCESS, backend.get("t-2").result().get("status"));
    assertEquals(List.of(Settle.ack(r.delivery())), settled);
  }

  @Test
  void aStateTheWorkerCannotStoreIsRequeuedWithAcksLateAndCountedLost() {
    MemoryBackend failing =
        new MemoryBackend(10) {
          @Override
          public Future<Void> storeEncoded(EncodedState s) {
            return Future.failedFuture(new IllegalStateException("backend away"));
          }
        };
    ResultRecorder rec = recorder(failing);
    Request late = request("t-3", true);
    Request early = request("t-4", false);
    for (Request r : List.of(late, early)) {
      assertTrue(
          rec.finished(
                  TaskOutcome.tracedByChild(
                      r,
                      States.SUCCESS,
                      new PyRepr.Repr("3"),
                      null,
                      0.01,
                      null,
                      List.of(state(r.id(), States.SUCCESS))))
              .succeeded());
    }
    assertEquals(
        List.of(Settle.requeue(late.delivery())),
        settled,
        "acks_late: requeued; without it the message was acked at start");
    assertEquals(2, rec.resultsLost());
    assertTrue(rec.whenIdle().succeeded(), "no write left pending");
  }
}

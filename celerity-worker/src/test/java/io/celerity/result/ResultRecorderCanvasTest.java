package io.celerity.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.backend.MemoryBackend;
import io.celerity.protocol.Json;
import io.celerity.protocol.States;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.Request;
import io.celerity.types.Settle;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 20: the canvas part of recording an outcome never leaves a request unsettled. */
class ResultRecorderCanvasTest {

  private final MemoryBackend backend = new MemoryBackend(100);
  private final List<Settle> settled = new ArrayList<>();
  private final List<OutgoingMessage> published = new ArrayList<>();

  private Request request(String id, Map<String, Object> embed) {
    return TestRequests.request(id, embed, true);
  }

  private static Map<String, Object> chainTo(String task) {
    Map<String, Object> next = new LinkedHashMap<>();
    next.put("task", task);
    next.put("args", List.of());
    next.put("kwargs", Map.of());
    next.put("options", Map.of("task_id", "next-1"));
    Map<String, Object> embed = new LinkedHashMap<>();
    embed.put("callbacks", null);
    embed.put("errbacks", null);
    embed.put("chain", List.of(next));
    embed.put("chord", null);
    return embed;
  }

  @Test
  @SuppressWarnings("unchecked")
  void aChainStepReturningNoneSendsTheNextStepAndSettles() throws Exception {
    ResultRecorder rec =
        new ResultRecorder(
            backend,
            settled::add,
            m -> {
              published.add(m);
              return Future.succeededFuture();
            },
            false,
            "w@h",
            "q");
    Request r = request("t-1", chainTo("p.next"));
    Future<Void> done =
        rec.finished(new TaskOutcome(r, r.message(), States.SUCCESS, null, null, 0.01));
    assertTrue(done.succeeded());
    assertEquals(List.of(Settle.ack(r.delivery())), settled, "acks_late: acked once recorded");
    assertEquals(1, published.size(), "the next step was sent");
    List<Object> body = (List<Object>) Json.parse(published.get(0).body());
    assertEquals(Arrays.asList((Object) null), body.get(0), "with the None result as its argument");
    assertEquals(States.SUCCESS, backend.get("t-1").result().get("status"));
  }

  @Test
  void aNextStepThatCannotBeSentFailsTheTaskAndStillSettles() {
    ResultRecorder rec =
        new ResultRecorder(
            backend,
            settled::add,
            m -> {
              throw new IllegalStateException("publisher bug");
            },
            false,
            "w@h",
            "q");
    Request r = request("t-2", chainTo("p.next"));
    Future<Void> done =
        rec.finished(new TaskOutcome(r, r.message(), States.SUCCESS, 1, null, 0.01));
    assertTrue(done.succeeded());
    assertEquals(
        List.of(Settle.ack(r.delivery())), settled, "settled (acks_on_failure_or_timeout)");
    assertEquals(
        States.FAILURE, backend.get("t-2").result().get("status"), "Celery's on_error: FAILURE");
    assertEquals(
        States.FAILURE,
        backend.get("next-1").result().get("status"),
        "the waiting step is failed too");
    assertEquals(1, rec.failed());
  }
}

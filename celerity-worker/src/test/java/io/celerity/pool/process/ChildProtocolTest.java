package io.celerity.pool.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.pool.Runner;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.task.Retry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a child's reply reports: read whole first, so a malformed one reports nothing. */
class ChildProtocolTest {

  private final List<String> calls = new ArrayList<>();

  private final Runner.Completion completion =
      new Runner.Completion() {
        @Override
        public void expired() {
          calls.add("expired");
        }

        @Override
        public void done(Object value, ExceptionInfo error) {
          calls.add("done " + value + " " + (error == null ? null : error.type()));
        }

        @Override
        public void retry(Retry retry, ExceptionInfo error) {
          calls.add("retry " + error.type());
        }

        @Override
        public void traced(
            String state,
            Object value,
            ExceptionInfo error,
            Double runtime,
            ExceptionInfo notStored,
            List<io.celerity.backend.EncodedState> stores) {
          calls.add(
              "traced "
                  + state
                  + " "
                  + value
                  + " "
                  + (error == null ? null : error.type())
                  + (stores.isEmpty() ? "" : " " + stores));
        }
      };

  @Test
  void repliesReportOnlyWhenRun() {
    Runnable success =
        ChildProtocol.outcome(
            completion,
            Map.of("type", "traced", "job", 1, "state", "SUCCESS", "repr", "3", "runtime", 0.1));
    Runnable error =
        ChildProtocol.outcome(
            completion,
            Map.of("type", "error", "job", 2, "exc_type", "KeyError", "exc_message", List.of("k")));
    assertTrue(calls.isEmpty(), "nothing reported before the job is let go");
    success.run();
    error.run();
    assertEquals(List.of("traced SUCCESS 3 null", "done null KeyError"), calls);
  }

  @Test
  void aMalformedReplyThrowsBeforeReporting() {
    assertThrows(
        RuntimeException.class,
        () ->
            ChildProtocol.outcome(
                completion,
                Map.of("type", "retry", "job", 1, "exc_type", "KeyError", "eta", "not a date")));
    assertThrows(
        RuntimeException.class,
        () ->
            ChildProtocol.outcome(
                completion, Map.of("type", "retry", "job", 1, "exc_type", "KeyError", "args", 5)));
    assertTrue(calls.isEmpty(), calls.toString());
  }

  @Test
  void aTracedFrameHandsOverItsFinalStateForTheWorkerToWrite() {
    String doc = "{\"status\": \"SUCCESS\", \"result\": 3, \"task_id\": \"t-9\"}";
    ChildProtocol.outcome(
            completion,
            Map.of(
                "type",
                "traced",
                "job",
                1,
                "state",
                "SUCCESS",
                "repr",
                "3",
                "stores",
                List.of(List.of("celery-task-meta-t-9", doc, 86400))))
        .run();
    assertEquals(
        List.of(
            "traced SUCCESS 3 null "
                + List.of(
                    new io.celerity.backend.EncodedState(
                        "t-9", "SUCCESS", "celery-task-meta-t-9", doc, 86400))),
        calls);
    for (Object malformed :
        List.of(
            "x",
            List.of(List.of("k", doc)),
            List.of(List.of("k", Map.of(), 1)),
            List.of(Arrays.asList("k", doc, null)))) {
      assertThrows(
          RuntimeException.class,
          () ->
              ChildProtocol.outcome(
                  completion,
                  Map.of("type", "traced", "job", 2, "state", "SUCCESS", "stores", malformed)),
          "a malformed stores list fails the reply before anything is reported: " + malformed);
    }
    assertEquals(1, calls.size());
  }

  @Test
  void jobNumbersAreNumbersOnly() {
    assertEquals(7, ChildProtocol.number(7, -1));
    assertEquals(-1, ChildProtocol.number("7", -1));
    assertEquals(-1, ChildProtocol.number(null, -1));
  }
}

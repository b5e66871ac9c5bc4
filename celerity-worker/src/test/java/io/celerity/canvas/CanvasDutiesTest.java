package io.celerity.canvas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.backend.TaskResult;
import io.celerity.protocol.States;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Canvases run to the end through {@link CanvasDuties} by a miniature worker ({@link CanvasRun});
 * the expected values are what Celery's own worker returns for the same canvas (see
 * CanvasInteropTest#canvasesGiveTheSameResultsOnCeleryWorkerAndOurs).
 */
class CanvasDutiesTest {

  private static Signature add(Object... a) {
    return Signature.of("t.add", a);
  }

  private static Signature xsum() {
    return Signature.of("t.xsum");
  }

  /** Resolves what {@code get()} returns for a frozen canvas: a group's member values as a list. */
  private static Object result(CanvasRun run, Signature frozen) {
    if (frozen.isGroup()) {
      List<Object> out = new ArrayList<>();
      for (Signature m : Canvas.unroll(frozen.tasks())) {
        out.add(result(run, m));
      }
      return out;
    }
    if (frozen.isChain()) {
      List<Signature> t = frozen.tasks();
      return result(run, t.get(t.size() - 1));
    }
    if (frozen.isChord()) {
      return result(run, frozen.body());
    }
    return run.value(frozen.id());
  }

  private static Object run(Signature canvas) {
    CanvasRun run = new CanvasRun();
    Signature frozen = Canvas.freeze(canvas);
    run.run(frozen);
    try {
      return result(run, frozen);
    } catch (AssertionError e) {
      StringBuilder sb = new StringBuilder(e.getMessage());
      run.published.forEach(
          m ->
              sb.append("\n")
                  .append(m.headers().get("task"))
                  .append(m.headers().get("id"))
                  .append(' ')
                  .append(new String(m.body(), java.nio.charset.StandardCharsets.UTF_8)));
      throw new AssertionError(sb.toString());
    }
  }

  @Test
  void chainOfChordTaskAndGroupCompletes() {
    assertEquals(
        List.of(12, 13),
        run(
            Canvas.chain(
                Canvas.chord(List.of(add(1, 1), add(2, 2)), xsum()),
                add(5),
                Canvas.group(add(1), add(2)))));
  }

  @Test
  void groupFollowedByAChordInAChainBecomesAChordWhoseBodyIsTheChord() {
    assertEquals(
        List.of(13, 14),
        run(
            Canvas.chain(
                Canvas.group(add(1, 1), add(2, 2)),
                Canvas.chord(List.of(xsum(), xsum()), xsum()),
                Canvas.group(add(1), add(2)))));
  }

  @Test
  void nestedChordsAndChordBodiesThatAreChainsOrGroups() {
    assertEquals(
        12,
        run(
            Canvas.chord(
                List.of(Canvas.chord(List.of(add(1, 1), add(2, 2)), xsum()), add(3, 3)), xsum())));
    assertEquals(
        12, run(Canvas.chord(List.of(Canvas.group(add(1, 1), add(2, 2)), add(3, 3)), xsum())));
    assertEquals(
        60,
        run(
            Canvas.chord(
                List.of(add(1, 1), add(2, 2)), Canvas.chain(xsum(), Signature.of("t.mul", 10)))));
    assertEquals(
        List.of(6, List.of(2, 4)),
        run(
            Canvas.chord(
                List.of(add(1, 1), add(2, 2)), Canvas.group(xsum(), Signature.of("t.echo")))));
    assertEquals(
        14,
        run(
            Canvas.chain(
                add(1, 1),
                Canvas.chord(List.of(add(1), add(2)), xsum()),
                Signature.of("t.mul", 2))));
  }

  @Test
  void emptyAndSingleTaskHeaders() {
    assertEquals(0, run(Canvas.chord(List.of(), xsum())));
    assertEquals(2, run(Canvas.chord(List.of(add(1, 1)), xsum())));
  }

  /** Issue 20: a step returning None crashed afterSuccess (List.of(null)) and the chain stopped. */
  @Test
  void aStepReturningNoneHandsNoneToTheNextStep() {
    assertEquals(null, run(Canvas.chain(Signature.of("t.none"), Signature.of("t.echo"))));
    CanvasRun run = new CanvasRun();
    Signature frozen = Canvas.freeze(Canvas.chain(Signature.of("t.none"), Signature.of("t.echo")));
    run.run(frozen);
    assertEquals(2, run.stored.size(), "both steps stored: " + run.stored);
    run.stored.values().forEach(r -> assertEquals(States.SUCCESS, r.status(), r.toString()));
  }

  /**
   * Celery's trace: an error while sending the next step fails the task (on_error), nothing
   * escapes.
   */
  @Test
  void aNextStepTheBrokerRefusesFailsTheTaskAndTheChainEnds() {
    CanvasRun run = new CanvasRun();
    run.refuse = "t.mul";
    Signature frozen = Canvas.freeze(Canvas.chain(add(1, 1), Signature.of("t.mul", 3)));
    run.run(frozen);
    TaskResult first = run.stored.get(frozen.tasks().get(0).id());
    assertEquals(States.FAILURE, first.status(), first.toString());
    assertTrue(String.valueOf(first.result()).contains("broker refused"), first.toString());
    TaskResult second = run.stored.get(frozen.tasks().get(1).id());
    assertEquals(
        States.FAILURE, second.status(), "the waiting step is marked failed too: " + run.stored);
  }

  /**
   * Issue 20: any failure while sending the next step is contained: the task is marked FAILURE (as
   * Celery's trace does through on_error) and nothing is thrown at the result-reader.
   */
  @Test
  void anErrorThrownWhileSendingTheNextStepFailsTheTaskInsteadOfEscaping() {
    CanvasRun run = new CanvasRun();
    run.sizeThrows = true;
    Signature frozen =
        Canvas.freeze(Canvas.chain(add(1, 1), Canvas.chord(List.of(add(1)), xsum())));
    run.run(frozen);
    TaskResult first = run.stored.get(frozen.tasks().get(0).id());
    assertEquals(States.FAILURE, first.status(), first.toString());
    assertTrue(String.valueOf(first.result()).contains("backend bug"), first.toString());
  }

  @Test
  @SuppressWarnings("unchecked")
  void aFailedHeaderMemberFailsTheBodyWithChordErrorAndRunsTheBodysErrbacks() {
    CanvasRun run = new CanvasRun();
    Signature body = xsum().linkError(Signature.of("t.echo").set("task_id", "errback-1"));
    Signature frozen =
        Canvas.freeze(Canvas.chord(List.of(add(1, 1), Signature.of("t.fail")), body));
    run.run(frozen);
    String failedId = frozen.header().tasks().get(1).id();
    TaskResult b = run.stored.get(frozen.body().id());
    assertEquals(States.FAILURE, b.status());
    Map<String, Object> exc = (Map<String, Object>) b.result();
    assertEquals("ChordError", exc.get("exc_type"));
    assertEquals(
        List.of("Dependency " + failedId + " raised ValueError('boom')"), exc.get("exc_message"));
    assertEquals(frozen.body().id(), run.value("errback-1"), "the errback gets the body's id");
  }

  private static Signature replaceWith(Signature sig) {
    return Signature.of("t.replace", sig.toMap());
  }

  /**
   * Celery's Task.replace: the replacement inherits the id, callbacks, errbacks, chain and chord
   * membership.
   */
  @Test
  void aReplacedTaskHandsItsIdCallbacksChainAndChordToTheReplacement() {
    CanvasRun run = new CanvasRun();
    Signature replaced = replaceWith(add(2, 3)).link(Signature.of("t.echo").set("task_id", "cb-1"));
    Signature frozen = Canvas.freeze(Canvas.chain(replaced, Signature.of("t.mul", 10)));
    run.run(frozen);
    String replacedId = frozen.tasks().get(0).id();
    assertEquals(5, run.value(replacedId), "the replacement stores under the replaced task's id");
    assertEquals(5, run.value("cb-1"), "the replaced task's callback got the replacement's result");
    assertEquals(
        50, run.value(frozen.tasks().get(1).id()), "the chain went on after the replacement");

    assertEquals(
        12,
        run(Canvas.chord(List.of(replaceWith(add(5, 5)), add(1, 1)), xsum())),
        "chord membership kept");
    assertEquals(
        List.of(2, 4),
        run(replaceWith(Canvas.group(add(1, 1), add(2, 2)))),
        "a group replacement gives the list");
  }

  @Test
  void aReplacedTaskWhoseReplacementFailsRunsItsErrbacks() {
    CanvasRun run = new CanvasRun();
    Signature frozen =
        Canvas.freeze(
            replaceWith(Signature.of("t.fail"))
                .linkError(Signature.of("t.echo").set("task_id", "eb-1")));
    run.run(frozen);
    assertEquals(States.FAILURE, run.stored.get(frozen.id()).status());
    assertEquals(
        frozen.id(),
        run.value("eb-1"),
        "the errback moved to the replacement and got its (same) id");
  }
}

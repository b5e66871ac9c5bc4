package io.celerity.canvas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.protocol.Json;
import io.celerity.types.OutgoingMessage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The messages a Java-built canvas turns into, compared with what the Python client publishes
 * (docs/wire-protocol.md §1.5).
 */
class CanvasTest {

  @SuppressWarnings("unchecked")
  private static List<Object> body(OutgoingMessage m) throws Exception {
    return (List<Object>) Json.parse(m.body());
  }

  @Test
  @SuppressWarnings("unchecked")
  void chainSendsTheFirstTaskWithTheRestReversed() throws Exception {
    Launch l =
        Launch.of(
            Canvas.chain(
                Signature.of("p.add", 1, 2), Signature.of("p.mul", 10), Signature.of("p.add", 5)),
            "gen1@h",
            "q");
    assertEquals(1, l.messages().size());
    OutgoingMessage first = l.messages().get(0);
    assertEquals("q", first.routingKey());
    assertEquals(first.headers().get("id"), first.headers().get("root_id"));
    List<Object> chain = (List<Object>) ((Map<String, Object>) body(first).get(2)).get("chain");
    assertEquals(
        "p.add", ((Map<String, Object>) chain.get(0)).get("task"), "the final step is first");
    assertEquals(
        "p.mul", ((Map<String, Object>) chain.get(1)).get("task"), "the next step is last");
    assertEquals(
        ((Map<String, Object>) ((Map<String, Object>) chain.get(0)).get("options")).get("task_id"),
        l.id(),
        "the chain's result is its last task");
  }

  @Test
  @SuppressWarnings("unchecked")
  void chordWritesItsSizeAndMarksEveryHeaderMember() throws Exception {
    Launch l =
        Launch.of(
            Canvas.chord(
                List.of(Signature.of("p.add", 1, 1), Signature.of("p.add", 2, 2)),
                Signature.of("p.tsum")),
            "gen1@h",
            "q");
    assertEquals(1, l.chordSizes().size());
    String gid = l.chordSizes().keySet().iterator().next();
    assertEquals(2, l.chordSizes().get(gid));
    for (int i = 0; i < 2; i++) {
      OutgoingMessage m = l.messages().get(i);
      assertEquals(gid, m.headers().get("group"));
      assertEquals(i, m.headers().get("group_index"));
      Map<String, Object> chord =
          (Map<String, Object>) ((Map<String, Object>) body(m).get(2)).get("chord");
      assertEquals("p.tsum", chord.get("task"));
      assertEquals(l.id(), ((Map<String, Object>) chord.get("options")).get("task_id"));
    }
  }

  @Test
  void immutableSignaturesIgnoreThePrefix() throws Exception {
    Applier a = new Applier("gen1@h", "q", "reply", "parent", "root");
    a.apply(Signature.of("p.add", 5, 5).immutableCopy(), List.of(99), Map.of());
    a.apply(Signature.of("p.add", 5), List.of(99), Map.of());
    assertEquals(List.of(5, 5), body(a.messages().get(0)).get(0));
    assertEquals(List.of(99, 5), body(a.messages().get(1)).get(0));
    assertEquals("parent", a.messages().get(0).headers().get("parent_id"));
    assertEquals("root", a.messages().get(0).headers().get("root_id"));
    assertEquals("reply", a.messages().get(0).properties().get("reply_to"));
  }

  @Test
  void malformedSignaturesAreRejectedWithAReason() {
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> Signature.from(List.of(1)))
            .getMessage()
            .contains("not an object"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> Signature.from(Map.of("task", "x", "args", "a")))
            .getMessage()
            .contains("args"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    Signature.from(
                        Map.of(
                            "task",
                            "celery.group",
                            "subtask_type",
                            "group",
                            "kwargs",
                            Map.of("tasks", List.of(Map.of())))))
            .getMessage()
            .contains("no task name"));
    assertNull(Signature.from(Map.of("task", "x")).id());
  }

  /**
   * Celery's as_tuple() of a frozen chord and chain (checked against Celery 5.2.6's
   * freeze().as_tuple()).
   */
  @Test
  void canvasResultTuplesHaveCelerysShape() {
    CanvasResult chord =
        CanvasResult.of(
            Canvas.chord(
                List.of(Signature.of("t.add", 1, 1), Signature.of("t.add", 2, 2)),
                Signature.of("t.xsum")));
    Signature frozen = Signature.from(chord.toJson().get(CanvasResult.MARKER));
    String gid = frozen.header().id();
    List<Signature> members = frozen.header().tasks();
    Object member0 =
        java.util.Arrays.asList(java.util.Arrays.asList(members.get(0).id(), null), null);
    Object member1 =
        java.util.Arrays.asList(java.util.Arrays.asList(members.get(1).id(), null), null);
    assertEquals(
        java.util.Arrays.asList(
            java.util.Arrays.asList(
                chord.id(),
                java.util.Arrays.asList(
                    java.util.Arrays.asList(gid, null), List.of(member0, member1))),
            null),
        chord.asTuple());

    CanvasResult chain =
        CanvasResult.of(Canvas.chain(Signature.of("t.add", 1, 1), Signature.of("t.mul", 2)));
    Signature c = Signature.from(chain.toJson().get(CanvasResult.MARKER));
    assertEquals(
        java.util.Arrays.asList(
            java.util.Arrays.asList(
                c.tasks().get(1).id(),
                java.util.Arrays.asList(
                    java.util.Arrays.asList(c.tasks().get(0).id(), null), null)),
            null),
        chain.asTuple());
    assertEquals(c.tasks().get(1).id(), chain.id());
  }
}

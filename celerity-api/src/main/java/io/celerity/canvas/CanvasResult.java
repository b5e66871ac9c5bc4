package io.celerity.canvas;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A canvas a Java task starts and returns, like a Python task returning {@code sig.delay()} (an
 * {@code AsyncResult}) or {@code group(...).delay()} (a {@code GroupResult}): {@code return
 * CanvasResult.of(Canvas.group(...))}. Once the task body returned it, the worker sends the canvas
 * (before the task's own callbacks and before its result is stored), stores the result as Celery's
 * {@code as_tuple()} form ({@code prepare_value}) and lists it in the task's {@code children}.
 * Python clients read it back with {@code result_from_tuple}.
 *
 * <p>The ids are given up front ({@link Canvas#freeze}), so {@link #id()} and {@link #asTuple()}
 * are known inside the task. On its way out of the task body it is a JSON object with one marker
 * key, so it crosses process-pool children unchanged.
 */
public final class CanvasResult {

  static final String MARKER = "__celerity_canvas_result__";

  private final Signature frozen;

  private CanvasResult(Signature frozen) {
    this.frozen = frozen;
  }

  /** Freezes {@code sig}; the worker sends it once the task returned this. */
  public static CanvasResult of(Signature sig) {
    return new CanvasResult(Canvas.freeze(sig));
  }

  /** The id of the result to wait for (see {@link Canvas#resultId}). */
  public String id() {
    return Canvas.resultId(frozen);
  }

  /** Celery's {@code result.as_tuple()} of what will be sent. */
  public Object asTuple() {
    return tupleOf(frozen, null);
  }

  /**
   * The form it takes on its way out of the task body (the worker turns it into {@link
   * #asTuple()}).
   */
  @JsonValue
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(MARKER, frozen.toMap());
    return m;
  }

  /** The frozen signature a task returned as a CanvasResult (after JSON conversion), or null. */
  static Signature in(Object value) {
    if (value instanceof Map<?, ?> m && m.size() == 1 && m.containsKey(MARKER)) {
      return Signature.from(m.get(MARKER));
    }
    return null;
  }

  /**
   * {@code as_tuple()} of the result {@code apply_async} returns for a frozen signature: a task's
   * {@code ((id, parent), None)}, a group's {@code ((gid, parent), [members])}, a chain's last step
   * with the earlier steps as parents, a chord's body with the header group as parent.
   */
  static Object tupleOf(Signature s, Object parent) {
    if (s.isChain()) {
      Object p = parent;
      for (Signature step : s.tasks()) {
        p = tupleOf(step, p);
      }
      return p;
    }
    if (s.isChord()) {
      return tupleOf(s.body(), tupleOf(s.header(), parent));
    }
    if (s.isGroup()) {
      List<Object> members = new ArrayList<>();
      for (Signature m : Canvas.unroll(s.tasks())) {
        members.add(tupleOf(m, null));
      }
      return Arrays.asList(Arrays.asList(s.id(), parent), members);
    }
    return Arrays.asList(Arrays.asList(s.id(), parent), null);
  }

  /**
   * How Celery logs a returned result ({@code <AsyncResult: id>}, {@code <GroupResult: gid
   * [ids]>}), or null when {@code value} is not a CanvasResult.
   */
  public static String logRepr(Object value) {
    Signature s;
    try {
      s = in(value);
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (s == null) {
      return null;
    }
    if (s.isGroup()) {
      List<String> ids = new ArrayList<>();
      Canvas.unroll(s.tasks()).forEach(t -> ids.add(Canvas.resultId(t)));
      return "<GroupResult: " + s.id() + " [" + String.join(", ", ids) + "]>";
    }
    return "<AsyncResult: " + Canvas.resultId(s) + ">";
  }
}

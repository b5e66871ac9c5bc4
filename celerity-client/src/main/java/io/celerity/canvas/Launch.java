package io.celerity.canvas;

import io.celerity.types.OutgoingMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What starting a signature takes: the task messages to publish and, for chords, the chord sizes to
 * write to the result backend first ({@code celery-taskset-meta-<gid>.s}).
 *
 * @param id id of the result to wait for: the task, the last task of a chain, the group, or the
 *     chord body
 * @param resultTuple Celery's result tuple of what was started (as listed in a parent's {@code
 *     children})
 * @param chordSizes group id -> number of header tasks, to store before publishing
 * @param messages the messages, in publishing order
 */
public record Launch(
    String id,
    Object resultTuple,
    Map<String, Integer> chordSizes,
    List<OutgoingMessage> messages) {

  /**
   * {@code sig.apply_async()} from a client: the messages to publish (and chord sizes to store
   * first), routed to {@code defaultQueue} unless a signature says otherwise.
   *
   * @param origin {@code origin} header, e.g. {@code gen<pid>@<host>}
   */
  public static Launch of(Signature sig, String origin, String defaultQueue) {
    Signature frozen = Canvas.freeze(sig);
    Applier a = new Applier(origin, defaultQueue, null, null, null);
    Object tuple = a.apply(frozen, null, Map.of());
    return new Launch(Canvas.resultId(frozen), tuple, a.chordSizes(), a.messages());
  }

  /**
   * {@code sig.apply_async(**call)} from a client or from inside a task: like {@link #of(Signature,
   * String, String)}, with the client's reply queue on every task and, inside a task, {@code
   * parent_id} = the running task and {@code root_id} = its root (Celery's {@code send_task} with
   * {@code current_worker_task}). The launch's {@code resultTuple} is Celery's {@code as_tuple()}
   * of the result {@code apply_async} returns (a chain's last step with the earlier steps as
   * parents, a group with its members).
   *
   * @param replyTo {@code reply_to} of every task (the client's rpc:// queue), or null
   * @param call call options ({@code countdown}, {@code queue}, ...), applied as {@code
   *     apply_async(**call)}
   * @param parentId the running task's id, or null outside a task
   * @param rootId the running task's root id, or null outside a task
   */
  public static Launch of(
      Signature sig,
      String origin,
      String defaultQueue,
      String replyTo,
      Map<String, Object> call,
      String parentId,
      String rootId) {
    Signature frozen = Canvas.freeze(sig, replyTo);
    Map<String, Object> c = new java.util.LinkedHashMap<>(call);
    c.replaceAll((k, v) -> signaturesAsMaps(v)); // link=Signature.of(...) as well as its dict form
    Object callId = c.remove("task_id");
    if (callId != null) {
      frozen = replaceResultId(frozen, callId.toString());
    }
    Applier a = new Applier(origin, defaultQueue, replyTo, parentId, rootId);
    a.apply(frozen, null, c);
    return new Launch(
        Canvas.resultId(frozen), CanvasResult.tupleOf(frozen, null), a.chordSizes(), a.messages());
  }

  private static Object signaturesAsMaps(Object v) {
    if (v instanceof Signature s) {
      return s.toMap();
    }
    if (v instanceof List<?> l && l.stream().anyMatch(Signature.class::isInstance)) {
      List<Object> out = new ArrayList<>(l.size());
      l.forEach(e -> out.add(signaturesAsMaps(e)));
      return out;
    }
    return v;
  }

  /**
   * {@code apply_async(task_id=...)}: the id of the result it produces, replacing the frozen one.
   */
  private static Signature replaceResultId(Signature frozen, String id) {
    if (frozen.isChain()) {
      List<Signature> t = new ArrayList<>(frozen.tasks());
      if (!t.isEmpty()) {
        t.set(t.size() - 1, replaceResultId(t.get(t.size() - 1), id));
      }
      return frozen.withKwargs(Map.of("tasks", t.stream().map(Signature::toMap).toList()));
    }
    if (frozen.isChord()) {
      return frozen.withKwargs(Map.of("body", replaceResultId(frozen.body(), id).toMap()));
    }
    return frozen.set("task_id", id);
  }
}

package io.celerity.canvas;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Celery's canvas for Java: build chains, groups and chords of {@link Signature}s and turn them
 * into the messages a Python client would publish, so Python workers and ours run them alike.
 *
 * <pre>{@code
 * Signature flow = Canvas.chain(Signature.of("examples.add", 1, 2), Signature.of("examples.mul", 10));
 * Launch launch = Launch.of(flow, "gen1@host", "celery");
 * // write launch.chordSizes() to the Redis backend, publish launch.messages(), wait for launch.id()
 * }</pre>
 */
public final class Canvas {

  private Canvas() {}

  /** {@code chain(a, b, c)}: each task gets the previous one's result as first argument. */
  public static Signature chain(Signature... tasks) {
    return chain(Arrays.asList(tasks));
  }

  public static Signature chain(List<Signature> tasks) {
    return composite("celery.chain", "chain", Map.of("tasks", maps(tasks)));
  }

  /**
   * {@code group(a, b, c)}: run in parallel; the group's result is the list of results in order.
   */
  public static Signature group(Signature... tasks) {
    return group(Arrays.asList(tasks));
  }

  public static Signature group(List<Signature> tasks) {
    return composite("celery.group", "group", Map.of("tasks", maps(tasks)));
  }

  /**
   * {@code chord(header, body)}: {@code body} gets the list of the header's results once all are
   * done.
   */
  public static Signature chord(List<Signature> header, Signature body) {
    Map<String, Object> kw = new LinkedHashMap<>();
    kw.put("header", group(header).toMap());
    kw.put("body", body.toMap());
    kw.put("kwargs", Map.of());
    return composite("celery.chord", "chord", kw);
  }

  /**
   * {@code chord(group, body)}: a group signature (its id becomes the chord's group id) as the
   * header.
   */
  public static Signature chord(Signature header, Signature body) {
    Map<String, Object> kw = new LinkedHashMap<>();
    kw.put("header", (header.isGroup() ? header : group(header)).toMap());
    kw.put("body", body.toMap());
    kw.put("kwargs", Map.of());
    return composite("celery.chord", "chord", kw);
  }

  private static Signature composite(String task, String type, Map<String, Object> kwargs) {
    return new Signature(task, List.of(), kwargs, Map.of(), type, false);
  }

  private static List<Object> maps(List<Signature> tasks) {
    List<Object> l = new ArrayList<>(tasks.size());
    tasks.forEach(t -> l.add(t.toMap()));
    return l;
  }

  /**
   * {@code sig.freeze()}: gives every task (and group) in the canvas its id up front, as the Python
   * client does before sending, so the results can be waited for.
   */
  public static Signature freeze(Signature sig) {
    return freeze(sig, null);
  }

  /**
   * {@link #freeze(Signature)} as a client with a reply queue freezes: every task also gets {@code
   * reply_to} = {@code replyTo} unless it has one (Celery's {@code Signature.freeze} sets the app's
   * {@code thread_oid}), so results sent by rpc:// reach the client whichever step sends them.
   */
  public static Signature freeze(Signature sig, String replyTo) {
    Signature s =
        sig.id() == null && !sig.isChain() ? sig.set("task_id", UUID.randomUUID().toString()) : sig;
    if (s.isGroup() || s.isChain()) {
      List<Signature> members = new ArrayList<>();
      s.tasks().forEach(t -> members.add(freeze(t, replyTo)));
      return s.withKwargs(Map.of("tasks", maps(members)));
    }
    if (s.isChord()) {
      Signature header = freeze(s.header(), replyTo);
      return s.set("task_id", header.id())
          .withKwargs(Map.of("header", header.toMap(), "body", freeze(s.body(), replyTo).toMap()));
    }
    return replyTo != null && s.options().get("reply_to") == null ? s.set("reply_to", replyTo) : s;
  }

  /**
   * {@code sig.freeze(id)}: the result the signature produces gets {@code id} unless it already has
   * one: a task's own id, a group's id, a chain's last step, a chord's body.
   */
  public static Signature withResultId(Signature sig, String id) {
    if (sig.isChain()) {
      List<Signature> t = new ArrayList<>(sig.tasks());
      if (t.isEmpty()) {
        return sig;
      }
      t.set(t.size() - 1, withResultId(t.get(t.size() - 1), id));
      return sig.withKwargs(Map.of("tasks", maps(t)));
    }
    if (sig.isChord()) {
      return sig.withKwargs(Map.of("body", withResultId(sig.body(), id).toMap()));
    }
    return sig.id() == null ? sig.set("task_id", id) : sig;
  }

  /**
   * The id of the result a frozen signature produces: the task, the group, the chain's last task,
   * the chord's body.
   */
  public static String resultId(Signature frozen) {
    if (frozen.isChain()) {
      List<Signature> t = frozen.tasks();
      return t.isEmpty() ? null : resultId(t.get(t.size() - 1));
    }
    return frozen.isChord() ? resultId(frozen.body()) : frozen.id();
  }

  /** Group members with nested groups flattened, as Celery's {@code group._unroll} sees them. */
  public static List<Signature> unroll(List<Signature> tasks) {
    List<Signature> out = new ArrayList<>();
    for (Signature t : tasks) {
      if (t.isGroup()) {
        out.addAll(unroll(t.tasks()));
      } else {
        out.add(t);
      }
    }
    return out;
  }
}

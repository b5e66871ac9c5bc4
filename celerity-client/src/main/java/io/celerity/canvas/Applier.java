package io.celerity.canvas;

import io.celerity.protocol.TaskMessages;
import io.celerity.types.OutgoingMessage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns signatures into task messages the way Celery's {@code Signature.apply_async} does for each
 * kind (docs/wire-protocol.md §5.1, §5.3): plain tasks, groups, chains and chords. Collects the
 * messages and chord sizes instead of sending them, so the caller decides when and how they are
 * published. Not thread-safe; one instance per application.
 */
final class Applier {

  private final String origin;
  private final String defaultQueue;
  private final String defaultReplyTo;

  /**
   * The running task, used when neither the signature nor the call names a parent/root (send_task's
   * fallback).
   */
  private final String contextParent;

  private final String contextRoot;
  private final List<OutgoingMessage> messages = new ArrayList<>();
  private final Map<String, Integer> chordSizes = new LinkedHashMap<>();

  Applier(
      String origin,
      String defaultQueue,
      String defaultReplyTo,
      String contextParent,
      String contextRoot) {
    this.origin = origin;
    this.defaultQueue = defaultQueue;
    this.defaultReplyTo = defaultReplyTo;
    this.contextParent = contextParent;
    this.contextRoot = contextRoot;
  }

  List<OutgoingMessage> messages() {
    return messages;
  }

  Map<String, Integer> chordSizes() {
    return chordSizes;
  }

  /**
   * {@code sig.apply_async(prefix, **call)}.
   *
   * @param prefix arguments prepended to the signature's own (unless it is immutable), or null
   * @param call call options; they override the signature's, except an existing {@code group_id}
   * @return Celery's result tuple of what was sent
   */
  Object apply(Signature sig, List<Object> prefix, Map<String, Object> call) {
    if (sig.isGroup()) {
      return applyGroup(sig, prefix, call);
    }
    if (sig.isChord()) {
      return applyChord(sig, prefix, call);
    }
    if (sig.isChain()) {
      return applyChain(sig, prefix, call);
    }
    Map<String, Object> o = merge(sig.options(), call);
    String id =
        o.get("task_id") != null ? o.get("task_id").toString() : UUID.randomUUID().toString();
    List<Object> args = sig.args();
    if (!sig.immutable() && prefix != null && !prefix.isEmpty()) {
      args = new ArrayList<>(prefix);
      args.addAll(sig.args());
    }
    if (o.get("reply_to") == null) {
      o.put("reply_to", defaultReplyTo);
    }
    messages.add(
        TaskMessages.fromOptions(
            sig.task(),
            id,
            new ArrayList<>(args),
            new LinkedHashMap<>(sig.kwargs()),
            o,
            contextParent,
            contextRoot,
            origin,
            defaultQueue));
    return taskTuple(id);
  }

  /** Celery's {@code group.apply_async}: the group's task_id becomes every member's group_id. */
  private Object applyGroup(Signature sig, List<Object> prefix, Map<String, Object> call) {
    Map<String, Object> o = merge(sig.options(), call);
    Object gidOption = o.remove("task_id");
    String gid = gidOption != null ? gidOption.toString() : UUID.randomUUID().toString();
    o.put("group_id", gid);
    List<Object> members = new ArrayList<>();
    for (Signature member : sig.tasks()) {
      members.add(apply(member, prefix, o));
    }
    return groupTuple(gid, members);
  }

  /**
   * Celery's {@code chord.run}: the chord's options (minus {@code task_id}, which names the body's
   * result) go onto the body, so a chord inside a chain, group or outer chord hands the remaining
   * chain, {@code group_id}, {@code group_index} and outer {@code chord} to its body. Then the size
   * (Celery's {@code _descend}: nested groups unrolled, a chain counts its last step, a nested
   * chord its body), then every header member with {@code group} = the header's id, {@code
   * group_index} = its position and {@code chord} = the body. An empty header sends the body at
   * once with {@code []}.
   */
  private Object applyChord(Signature sig, List<Object> prefix, Map<String, Object> call) {
    Map<String, Object> o = merge(sig.options(), call);
    Object bodyId = o.remove("task_id");
    Signature header = sig.header();
    Signature body = sig.body();
    String gid = header.id() != null ? header.id() : UUID.randomUUID().toString();
    for (Map.Entry<String, Object> e : o.entrySet()) {
      body = body.set(e.getKey(), e.getValue());
    }
    // Celery's body.freeze(task_id): an id the body already has wins; a chain's result id is its
    // last step's
    if (body.id() == null && (bodyId != null || !body.isChain())) {
      body = body.set("task_id", bodyId != null ? bodyId : UUID.randomUUID().toString());
    }
    List<Signature> members = Canvas.unroll(header.tasks());
    if (members.isEmpty()) {
      apply(body, List.of(List.of()), Map.of());
      return groupTuple(gid, List.of());
    }
    int size = 0;
    for (Signature m : members) {
      size += descend(m);
    }
    chordSizes.put(gid, size);
    Map<String, Object> bodyMap = body.toMap();
    List<Object> tuples = new ArrayList<>();
    for (int i = 0; i < members.size(); i++) {
      Map<String, Object> mo = new LinkedHashMap<>(o);
      // Celery: chains and the outer chord are not passed to the header (#3771), nor links
      for (String k : List.of("chain", "chord", "link", "link_error")) {
        mo.remove(k);
      }
      mo.put("group_id", gid);
      mo.put("group_index", i);
      mo.put("chord", bodyMap);
      tuples.add(apply(members.get(i), prefix, mo));
    }
    return groupTuple(gid, tuples);
  }

  /**
   * Nested groups in a header run as members of the one header group (Celery's {@code
   * _freeze_unroll}).
   */
  /**
   * Celery's {@code chord._descend}: how many completions a header member contributes to the chord.
   */
  static int descend(Signature s) {
    if (s.isGroup()) {
      int n = 0;
      for (Signature t : s.tasks()) {
        n += descend(t);
      }
      return n;
    }
    if (s.isChain()) {
      List<Signature> t = s.tasks();
      for (int i = t.size() - 1; i >= 0; i--) {
        int n = descend(t.get(i));
        if (n > 0) {
          return n;
        }
      }
      return 0;
    }
    if (s.isChord()) {
      return descend(s.body());
    }
    return 1;
  }

  /**
   * Celery's {@code chain.run} with {@code prepare_steps}: nested chains are spliced in, a group
   * followed by another step becomes {@code chord(group, step)}, and the first step is sent with
   * the rest, reversed, in front of the outer chain's remaining steps. The chain's {@code task_id},
   * {@code group_id}, {@code group_index} and {@code chord} belong to its last step (which produces
   * its result), {@code link} too; {@code link_error} goes to every step.
   */
  private Object applyChain(Signature sig, List<Object> prefix, Map<String, Object> call) {
    Map<String, Object> o = merge(sig.options(), call);
    Deque<Signature> steps = new ArrayDeque<>(sig.tasks());
    List<Signature> reversed = new ArrayList<>();
    while (!steps.isEmpty()) {
      Signature t = steps.pollLast();
      if (t.isChain()) {
        steps.addAll(t.tasks());
        continue;
      }
      if (t.isGroup() && !reversed.isEmpty()) {
        Signature next = reversed.remove(reversed.size() - 1);
        t = Canvas.chord(t, next);
      }
      if (!t.isGroup() && !t.isChord() && t.id() == null) {
        t = t.set("task_id", UUID.randomUUID().toString());
      }
      reversed.add(t);
    }
    if (reversed.isEmpty()) {
      return null;
    }
    if (o.get("link_error") != null) {
      for (int i = 0; i < reversed.size(); i++) {
        Signature t = reversed.get(i);
        for (Object eb : Signature.listFrom(o.get("link_error"))) {
          t = t.linkError((Signature) eb);
        }
        reversed.set(i, t);
      }
    }
    Signature last = reversed.get(0);
    Object lastId = o.remove("task_id");
    if (lastId != null && last.id() == null) {
      last = last.set("task_id", lastId);
    }
    for (String k : List.of("group_id", "group_index", "chord")) {
      Object v = o.remove(k);
      if (v != null) {
        last = last.set(k, v);
      }
    }
    Object link = o.remove("link");
    if (link != null) {
      for (Signature cb : Signature.listFrom(link)) {
        last = last.link(cb);
      }
    }
    o.remove("link_error");
    reversed.set(0, last);
    List<Object> chain = new ArrayList<>();
    if (o.get("chain") instanceof List<?> outer) {
      chain.addAll(outer);
    }
    for (int i = 0; i < reversed.size() - 1; i++) {
      chain.add(reversed.get(i).toMap());
    }
    o.put("chain", chain);
    return apply(reversed.get(reversed.size() - 1), prefix, o);
  }

  /**
   * Signature option merge: call options win, except a {@code group_id} the signature already has.
   */
  static Map<String, Object> merge(Map<String, Object> sigOptions, Map<String, Object> call) {
    Map<String, Object> o = new LinkedHashMap<>(sigOptions);
    call.forEach(
        (k, v) -> {
          if (!"group_id".equals(k) || o.get("group_id") == null) {
            o.put(k, v);
          }
        });
    return o;
  }

  static Object taskTuple(String id) {
    return Arrays.asList(Arrays.asList(id, null), null);
  }

  static Object groupTuple(String gid, List<Object> members) {
    return Arrays.asList(Arrays.asList(gid, null), members);
  }
}

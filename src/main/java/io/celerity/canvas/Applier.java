package io.celerity.canvas;

import io.celerity.protocol.TaskMessages;
import io.celerity.transport.OutgoingMessage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns signatures into task messages the way Celery's {@code Signature.apply_async} does for each
 * kind (docs/wire-protocol.md §5.1, §5.3): plain tasks, groups, chains and chords. Collects the messages and
 * chord sizes instead of sending them, so the caller decides when and how they are published.
 * Not thread-safe; one instance per application.
 */
final class Applier {

  private final String origin;
  private final String defaultQueue;
  private final String defaultReplyTo;
  /** The running task, used when neither the signature nor the call names a parent/root (send_task's fallback). */
  private final String contextParent;
  private final String contextRoot;
  private final List<OutgoingMessage> messages = new ArrayList<>();
  private final Map<String, Integer> chordSizes = new LinkedHashMap<>();

  Applier(String origin, String defaultQueue, String defaultReplyTo, String contextParent, String contextRoot) {
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
   * @param call   call options; they override the signature's, except an existing {@code group_id}
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
    String id = o.get("task_id") != null ? o.get("task_id").toString() : UUID.randomUUID().toString();
    List<Object> args = sig.args();
    if (!sig.immutable() && prefix != null && !prefix.isEmpty()) {
      args = new ArrayList<>(prefix);
      args.addAll(sig.args());
    }
    if (o.get("reply_to") == null) {
      o.put("reply_to", defaultReplyTo);
    }
    messages.add(TaskMessages.fromOptions(sig.task(), id, new ArrayList<>(args), new LinkedHashMap<>(sig.kwargs()), o,
      contextParent, contextRoot, origin, defaultQueue));
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
   * Celery's {@code chord.run}: size first, then every header member with {@code group} = the header's
   * id, {@code group_index} = its position and {@code chord} = the body (which carries the remaining
   * chain and the parent/root ids). An empty header sends the body at once with {@code []}.
   */
  private Object applyChord(Signature sig, List<Object> prefix, Map<String, Object> call) {
    Map<String, Object> o = merge(sig.options(), call);
    Signature header = sig.header();
    Signature body = sig.body();
    String gid = header.id() != null ? header.id() : o.get("task_id") != null ? o.get("task_id").toString()
      : UUID.randomUUID().toString();
    if (body.id() == null) {
      body = body.set("task_id", UUID.randomUUID().toString());
    }
    for (String k : List.of("chain", "parent_id", "root_id")) {
      if (call.containsKey(k)) {
        body = body.set(k, call.get(k));
      }
    }
    List<Signature> members = header.tasks();
    if (members.isEmpty()) {
      apply(body, List.of(List.of()), Map.of());
      return groupTuple(gid, List.of());
    }
    chordSizes.put(gid, members.size());
    Map<String, Object> bodyMap = body.toMap();
    List<Object> tuples = new ArrayList<>();
    for (int i = 0; i < members.size(); i++) {
      Map<String, Object> mo = new LinkedHashMap<>(o);
      mo.remove("task_id");
      mo.remove("chain");
      mo.put("group_id", gid);
      mo.put("group_index", i);
      mo.put("chord", bodyMap);
      tuples.add(apply(members.get(i), prefix, mo));
    }
    return groupTuple(gid, tuples);
  }

  /**
   * A chain signature applied here (nested in another chain, or as a link): its first task is sent
   * with the rest, reversed, in front of the outer chain's remaining steps, so the inner steps run
   * first. A chord/group membership passed in goes to its last task, which produces the chain's result.
   */
  private Object applyChain(Signature sig, List<Object> prefix, Map<String, Object> call) {
    List<Signature> tasks = new ArrayList<>();
    for (Signature t : sig.tasks()) {
      tasks.add(t.id() == null && !t.isGroup() && !t.isChord() && !t.isChain() ? t.set("task_id", UUID.randomUUID().toString()) : t);
    }
    if (tasks.isEmpty()) {
      return null;
    }
    Map<String, Object> first = new LinkedHashMap<>(call);
    Signature last = tasks.get(tasks.size() - 1);
    for (String k : List.of("group_id", "group_index", "chord")) {
      Object v = first.remove(k);
      if (v != null) {
        last = last.set(k, v);
      }
    }
    tasks.set(tasks.size() - 1, last);
    List<Object> chain = new ArrayList<>();
    if (call.get("chain") instanceof List<?> outer) {
      chain.addAll(outer);
    }
    List<Signature> rest = new ArrayList<>(tasks.subList(1, tasks.size()));
    Collections.reverse(rest);
    rest.forEach(s -> chain.add(s.toMap()));
    first.put("chain", chain);
    return apply(tasks.get(0), prefix, first);
  }

  /** Signature option merge: call options win, except a {@code group_id} the signature already has. */
  static Map<String, Object> merge(Map<String, Object> sigOptions, Map<String, Object> call) {
    Map<String, Object> o = new LinkedHashMap<>(sigOptions);
    call.forEach((k, v) -> {
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

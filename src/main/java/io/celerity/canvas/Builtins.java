package io.celerity.canvas;

import io.celerity.protocol.TaskMessage;
import io.celerity.task.TaskError;
import io.celerity.task.TaskModule;
import io.celerity.task.TaskOptions;
import io.celerity.task.TaskRegistry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Celery's built-in {@code celery.*} tasks a message may name (docs/wire-protocol.md §5.5). Their bodies
 * only check and compute; what they send (a group, a chord's header, a chord body) is sent by
 * {@link CanvasDuties} after they return, from the result-reader, like every other canvas message.
 */
public final class Builtins implements TaskModule {

  public static final String ACCUMULATE = "celery.accumulate";
  public static final String BACKEND_CLEANUP = "celery.backend_cleanup";
  public static final String CHAIN = "celery.chain";
  public static final String GROUP = "celery.group";
  public static final String CHORD = "celery.chord";
  public static final String CHORD_UNLOCK = "celery.chord_unlock";

  @Override
  public void register(TaskRegistry registry) {
    registry.register(ACCUMULATE, ctx -> {
      Object index = ctx.kwargs().get("index");
      return index instanceof Number n ? ctx.args().get(n.intValue()) : ctx.args();
    });
    // nothing to clean: Redis expires results itself (Celery's Redis backend does the same)
    registry.register(BACKEND_CLEANUP, ctx -> null);
    registry.register(CHAIN, ctx -> {
      throw new TaskError("builtins", "NotImplementedError", "chain is not a real task");
    });
    registry.register(GROUP, ctx -> {
      groupOf(ctx.args(), ctx.kwargs());
      return null;
    });
    registry.register(CHORD, ctx -> {
      chordOf(ctx.args(), ctx.kwargs());
      return null;
    });
    // Celery: max_retries=None, ignore_result=True; the readiness check runs in CanvasDuties
    registry.register(CHORD_UNLOCK, TaskOptions.DEFAULTS.withIgnoreResult(true), ctx -> {
      unlockArgs(ctx.args(), ctx.kwargs());
      return null;
    });
  }

  private static Object param(List<Object> args, Map<String, Object> kwargs, int index, String name) {
    if (index < args.size()) {
      return args.get(index);
    }
    if (kwargs.containsKey(name)) {
      return kwargs.get(name);
    }
    throw TaskError.typeError("missing required argument: '" + name + "'");
  }

  /** {@code celery.group(tasks, result, group_id, partial_args)} as a group signature. */
  static Signature groupOf(List<Object> args, Map<String, Object> kwargs) {
    Signature g = Canvas.group(Signature.listFrom(param(args, kwargs, 0, "tasks")));
    Object gid = args.size() > 2 ? args.get(2) : kwargs.get("group_id");
    return gid == null ? g : g.set("task_id", gid.toString());
  }

  /** {@code celery.chord(header, body, partial_args=(), ...)} as a chord signature. */
  static Signature chordOf(List<Object> args, Map<String, Object> kwargs) {
    Object header = param(args, kwargs, 0, "header");
    Signature headerGroup = header instanceof List<?> l ? Canvas.group(Signature.listFrom(l)) : Signature.from(header);
    if (!headerGroup.isGroup()) {
      headerGroup = Canvas.group(List.of(headerGroup));
    }
    Map<String, Object> kw = new LinkedHashMap<>();
    kw.put("header", headerGroup.toMap());
    kw.put("body", Signature.from(param(args, kwargs, 1, "body")).toMap());
    kw.put("kwargs", Map.of());
    Signature chord = new Signature(CHORD, List.of(), kw, Map.of(), "chord", false);
    return headerGroup.id() == null ? chord : chord.set("task_id", headerGroup.id());
  }

  /** {@code celery.chord_unlock(group_id, callback, interval, max_retries, result)}. */
  record Unlock(String groupId, Signature body, double interval, List<Object> results) {
  }

  static Unlock unlockArgs(List<Object> args, Map<String, Object> kwargs) {
    String gid = String.valueOf(param(args, kwargs, 0, "group_id"));
    Signature body = Signature.from(param(args, kwargs, 1, "callback"));
    Object interval = kwargs.get("interval");
    Object result = kwargs.get("result");
    if (!(result instanceof List<?> l)) {
      throw new IllegalArgumentException("celery.chord_unlock needs the header's result tuples in kwargs 'result'");
    }
    return new Unlock(gid, body, interval instanceof Number n ? n.doubleValue() : 1.0, new ArrayList<>(l));
  }

  /** What a built-in canvas task sends once its body returned; other tasks send nothing here. */
  static void applyBuiltin(TaskMessage m, Applier a, List<Object> children) {
    Map<String, Object> call = new LinkedHashMap<>();
    call.put("parent_id", m.id());
    call.put("root_id", m.rootId() != null ? m.rootId() : m.id());
    if (GROUP.equals(m.task())) {
      Object partial = m.args().size() > 3 ? m.args().get(3) : m.kwargs().get("partial_args");
      children.add(a.apply(groupOf(m.args(), m.kwargs()), partial instanceof List<?> l ? new ArrayList<>(l) : null, call));
    } else if (CHORD.equals(m.task())) {
      Object partial = m.args().size() > 2 ? m.args().get(2) : m.kwargs().get("partial_args");
      children.add(a.apply(chordOf(m.args(), m.kwargs()), partial instanceof List<?> l ? new ArrayList<>(l) : null, call));
    }
  }
}

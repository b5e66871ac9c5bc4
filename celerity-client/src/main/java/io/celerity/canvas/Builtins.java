package io.celerity.canvas;

import io.celerity.protocol.PyRepr;
import io.celerity.protocol.TaskMessage;
import io.celerity.task.Retry;
import io.celerity.task.TaskContext;
import io.celerity.task.TaskDefinition;
import io.celerity.task.TaskError;
import io.celerity.task.TaskModule;
import io.celerity.task.TaskOptions;
import io.celerity.task.TaskRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Celery's built-in {@code celery.*} tasks a message may name (docs/wire-protocol.md §5.5). Their
 * bodies only check and compute; what they send (a group, a chord's header, a chord body) is sent
 * by {@link CanvasDuties} after they return, from the result-reader, like every other canvas
 * message.
 */
public final class Builtins implements TaskModule {

  public static final String ACCUMULATE = "celery.accumulate";
  public static final String BACKEND_CLEANUP = "celery.backend_cleanup";
  public static final String CHAIN = "celery.chain";
  public static final String GROUP = "celery.group";
  public static final String CHORD = "celery.chord";
  public static final String CHORD_UNLOCK = "celery.chord_unlock";
  public static final String MAP = "celery.map";
  public static final String STARMAP = "celery.starmap";
  public static final String CHUNKS = "celery.chunks";

  @Override
  public void register(TaskRegistry registry) {
    registry.register(
        ACCUMULATE,
        ctx -> {
          Object index = ctx.kwargs().get("index");
          return index instanceof Number n ? ctx.args().get(n.intValue()) : ctx.args();
        });
    // nothing to clean: Redis expires results itself (Celery's Redis backend does the same)
    registry.register(BACKEND_CLEANUP, ctx -> null);
    registry.register(
        CHAIN,
        ctx -> {
          throw new TaskError("builtins", "NotImplementedError", "chain is not a real task");
        });
    // Celery returns result_from_tuple(result): the result tuple it was given (the members are sent
    // by CanvasDuties)
    registry.register(
        GROUP,
        ctx -> {
          groupOf(ctx.args(), ctx.kwargs());
          return ctx.args().size() > 1 ? ctx.args().get(1) : ctx.kwargs().get("result");
        });
    // Celery returns chord.run's body result: sent once the body returned, stored as its tuple
    registry.register(CHORD, ctx -> CanvasResult.of(chordOf(ctx.args(), ctx.kwargs())));
    // Celery's xmap/xstarmap: the task is called in this process for each item, sequentially
    registry.register(MAP, ctx -> mapped(registry, ctx, false));
    registry.register(STARMAP, ctx -> mapped(registry, ctx, true));
    // Celery's chunks task: sends a group of celery.starmap, one per chunk of n, and returns its
    // GroupResult
    registry.register(
        CHUNKS,
        ctx ->
            CanvasResult.of(
                chunksGroup(
                    param(ctx.args(), ctx.kwargs(), 0, "task"),
                    param(ctx.args(), ctx.kwargs(), 1, "it"),
                    param(ctx.args(), ctx.kwargs(), 2, "n"))));
    // Celery: max_retries=None, ignore_result=True; the readiness check runs in CanvasDuties
    registry.register(
        CHORD_UNLOCK,
        TaskOptions.DEFAULTS.withIgnoreResult(true),
        ctx -> {
          unlockArgs(ctx.args(), ctx.kwargs());
          return null;
        });
  }

  private static Object param(
      List<Object> args, Map<String, Object> kwargs, int index, String name) {
    if (index < args.size()) {
      return args.get(index);
    }
    if (kwargs.containsKey(name)) {
      return kwargs.get(name);
    }
    throw TaskError.typeError("missing required argument: '" + name + "'");
  }

  /**
   * {@code celery.map(task, it)} / {@code celery.starmap(task, it)}: {@code [task(item) for item in
   * it]}.
   */
  private static List<Object> mapped(TaskRegistry registry, TaskContext ctx, boolean star)
      throws Exception {
    Object raw = param(ctx.args(), ctx.kwargs(), 0, "task");
    String name = raw instanceof String n ? n : Signature.from(raw).task();
    TaskDefinition def = registry.get(name);
    if (def == null) {
      throw new TaskError("celery.exceptions", "NotRegistered", name);
    }
    if (!(param(ctx.args(), ctx.kwargs(), 1, "it") instanceof List<?> it)) {
      throw TaskError.typeError("'it' is not a list");
    }
    List<Object> out = new ArrayList<>(it.size());
    for (Object item : it) {
      List<Object> args;
      if (star) {
        if (!(item instanceof List<?> l)) {
          throw TaskError.typeError(
              name + "() argument after * must be an iterable, not " + PyRepr.of(item));
        }
        args = new ArrayList<>(l);
      } else {
        args = java.util.Collections.singletonList(item);
      }
      out.add(def.function().run(new CallContext(ctx, name, args)));
    }
    return out;
  }

  /**
   * {@code chunks(task, it, n).group()}: a group of {@code celery.starmap} over chunks of {@code n}
   * items.
   */
  static Signature chunksGroup(Object task, Object it, Object n) {
    if (!(it instanceof List<?> items)) {
      throw TaskError.typeError("'it' is not a list");
    }
    if (!(n instanceof Number size) || size.intValue() < 1) {
      throw TaskError.valueError("n must be a positive number, not " + PyRepr.of(n));
    }
    Map<String, Object> taskSig =
        task instanceof String name ? Signature.of(name).toMap() : Signature.from(task).toMap();
    List<Signature> parts = new ArrayList<>();
    for (int i = 0; i < items.size(); i += size.intValue()) {
      Map<String, Object> kw = new LinkedHashMap<>();
      kw.put("task", taskSig);
      kw.put("it", new ArrayList<>(items.subList(i, Math.min(items.size(), i + size.intValue()))));
      parts.add(new Signature(STARMAP, List.of(), kw, Map.of(), null, true));
    }
    return Canvas.group(parts);
  }

  /**
   * The request of a task called in-process by celery.map: its own name and arguments, the rest
   * from the map task.
   */
  private static final class CallContext implements TaskContext {
    private final TaskContext outer;
    private final String name;
    private final List<Object> args;

    CallContext(TaskContext outer, String name, List<Object> args) {
      this.outer = outer;
      this.name = name;
      this.args = args;
    }

    @Override
    public String id() {
      return outer.id();
    }

    @Override
    public String taskName() {
      return name;
    }

    @Override
    public int retries() {
      return outer.retries();
    }

    @Override
    public List<Object> args() {
      return args;
    }

    @Override
    public Map<String, Object> kwargs() {
      return Map.of();
    }

    @Override
    public String rootId() {
      return outer.rootId();
    }

    @Override
    public String parentId() {
      return outer.parentId();
    }

    @Override
    public String group() {
      return outer.group();
    }

    @Override
    public String hostname() {
      return outer.hostname();
    }

    @Override
    public Map<String, Object> headers() {
      return outer.headers();
    }

    @Override
    public boolean softTimeLimitExceeded() {
      return outer.softTimeLimitExceeded();
    }

    @Override
    public Retry retry(
        Throwable exc,
        Double countdown,
        Integer maxRetries,
        List<Object> args,
        Map<String, Object> kwargs) {
      return outer.retry(exc, countdown, maxRetries, args, kwargs);
    }

    @Override
    public String applyAsync(Signature sig, Map<String, Object> options) {
      return outer.applyAsync(sig, options);
    }
  }

  /** {@code celery.group(tasks, result, group_id, partial_args)} as a group signature. */
  static Signature groupOf(List<Object> args, Map<String, Object> kwargs) {
    Signature g = Canvas.group(Signature.listFrom(param(args, kwargs, 0, "tasks")));
    Object gid = args.size() > 2 ? args.get(2) : kwargs.get("group_id");
    return gid == null ? g : g.set("task_id", gid.toString());
  }

  /**
   * {@code celery.chord(header, body, partial_args=(), ...)} as a chord signature, partial args
   * applied to the header.
   */
  static Signature chordOf(List<Object> args, Map<String, Object> kwargs) {
    Object header = param(args, kwargs, 0, "header");
    Signature headerGroup =
        header instanceof List<?> l ? Canvas.group(Signature.listFrom(l)) : Signature.from(header);
    if (!headerGroup.isGroup()) {
      headerGroup = Canvas.group(List.of(headerGroup));
    }
    // header(*partial_args): prepended to every header member that is not immutable
    Object partial = args.size() > 2 ? args.get(2) : kwargs.get("partial_args");
    if (partial instanceof List<?> p && !p.isEmpty()) {
      List<Signature> members = new ArrayList<>();
      for (Signature t : Canvas.unroll(headerGroup.tasks())) {
        List<Object> a = new ArrayList<>(p);
        a.addAll(t.args());
        members.add(
            t.immutable()
                ? t
                : new Signature(t.task(), a, t.kwargs(), t.options(), t.subtaskType(), false));
      }
      Signature regrouped = Canvas.group(members);
      headerGroup =
          headerGroup.id() == null ? regrouped : regrouped.set("task_id", headerGroup.id());
    }
    return Canvas.chord(headerGroup, Signature.from(param(args, kwargs, 1, "body")));
  }

  /** {@code celery.chord_unlock(group_id, callback, interval, max_retries, result)}. */
  record Unlock(String groupId, Signature body, double interval, List<Object> results) {}

  static Unlock unlockArgs(List<Object> args, Map<String, Object> kwargs) {
    String gid = String.valueOf(param(args, kwargs, 0, "group_id"));
    Signature body = Signature.from(param(args, kwargs, 1, "callback"));
    Object interval = kwargs.get("interval");
    Object result = kwargs.get("result");
    if (!(result instanceof List<?> l)) {
      throw new IllegalArgumentException(
          "celery.chord_unlock needs the header's result tuples in kwargs 'result'");
    }
    return new Unlock(
        gid, body, interval instanceof Number n ? n.doubleValue() : 1.0, new ArrayList<>(l));
  }

  /** What a built-in canvas task sends once its body returned; other tasks send nothing here. */
  static void applyBuiltin(TaskMessage m, Applier a, List<Object> children) {
    Map<String, Object> call = new LinkedHashMap<>();
    call.put("parent_id", m.id());
    call.put("root_id", m.rootId() != null ? m.rootId() : m.id());
    if (GROUP.equals(m.task())) {
      Object partial = m.args().size() > 3 ? m.args().get(3) : m.kwargs().get("partial_args");
      children.add(
          a.apply(
              groupOf(m.args(), m.kwargs()),
              partial instanceof List<?> l ? new ArrayList<>(l) : null,
              call));
    }
  }
}

package io.celerity.canvas;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Celery signature: a task name with partial arguments and execution options, in the exact shape
 * Celery puts in a message's {@code embed} ({@code {"task", "args", "kwargs", "options",
 * "subtask_type", "immutable"}}, docs/wire-protocol.md §1.4). Immutable: every {@code with}/{@code
 * set} method returns a copy.
 *
 * <p>Build one from Java with {@link #of}, combine them with {@link Canvas#chain}, {@link
 * Canvas#group} and {@link Canvas#chord}, and read one from a message with {@link #from}.
 */
public final class Signature {

  private final String task;
  private final List<Object> args;
  private final Map<String, Object> kwargs;
  private final Map<String, Object> options;
  private final String subtaskType;
  private final boolean immutable;

  Signature(
      String task,
      List<Object> args,
      Map<String, Object> kwargs,
      Map<String, Object> options,
      String subtaskType,
      boolean immutable) {
    this.task = task;
    this.args = Collections.unmodifiableList(new ArrayList<>(args));
    this.kwargs = Collections.unmodifiableMap(new LinkedHashMap<>(kwargs));
    this.options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    this.subtaskType = subtaskType;
    this.immutable = immutable;
  }

  /** {@code task.s(*args)}: a signature whose parent's result is prepended to {@code args}. */
  public static Signature of(String task, Object... args) {
    return new Signature(task, Arrays.asList(args), Map.of(), Map.of(), null, false);
  }

  /**
   * Reads a signature dict as it arrives in {@code embed} (or inside a composite's kwargs).
   *
   * @throws IllegalArgumentException with a message saying what is wrong when {@code raw} is not a
   *     signature
   */
  @SuppressWarnings("unchecked")
  public static Signature from(Object raw) {
    if (!(raw instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException("signature is not an object: " + abbreviate(raw));
    }
    Object task = m.get("task");
    if (!(task instanceof String name) || name.isEmpty()) {
      throw new IllegalArgumentException("signature has no task name: " + abbreviate(raw));
    }
    Object a = m.get("args");
    Object k = m.get("kwargs");
    Object o = m.get("options");
    Object st = m.get("subtask_type");
    if (a != null && !(a instanceof List)) {
      throw new IllegalArgumentException("signature args of " + name + " is not a list");
    }
    if (k != null && !(k instanceof Map)) {
      throw new IllegalArgumentException("signature kwargs of " + name + " is not an object");
    }
    if (o != null && !(o instanceof Map)) {
      throw new IllegalArgumentException("signature options of " + name + " is not an object");
    }
    if (st != null && !(st instanceof String)) {
      throw new IllegalArgumentException("signature subtask_type of " + name + " is not a string");
    }
    Signature s =
        new Signature(
            name,
            a == null ? List.of() : (List<Object>) a,
            k == null ? Map.of() : (Map<String, Object>) k,
            o == null ? Map.of() : (Map<String, Object>) o,
            (String) st,
            Boolean.TRUE.equals(m.get("immutable")));
    s.validateMembers();
    return s;
  }

  /** A list of signature dicts, or a single one (Celery accepts both for link/link_error). */
  public static List<Signature> listFrom(Object raw) {
    if (raw == null) {
      return List.of();
    }
    if (raw instanceof Map) {
      return List.of(from(raw));
    }
    if (!(raw instanceof List<?> l)) {
      throw new IllegalArgumentException("expected a list of signatures: " + abbreviate(raw));
    }
    List<Signature> out = new ArrayList<>(l.size());
    for (Object o : l) {
      out.add(from(o));
    }
    return out;
  }

  /**
   * Composite signatures are checked up front, so a bad member is reported before anything is sent.
   */
  private void validateMembers() {
    if (isGroup() || isChain()) {
      tasks();
    } else if (isChord()) {
      header();
      body();
    }
  }

  public String task() {
    return task;
  }

  public List<Object> args() {
    return args;
  }

  public Map<String, Object> kwargs() {
    return kwargs;
  }

  public Map<String, Object> options() {
    return options;
  }

  /** Null for a plain task, else {@code chain}, {@code group}, {@code chord}, ... */
  public String subtaskType() {
    return subtaskType;
  }

  public boolean immutable() {
    return immutable;
  }

  /** The {@code task_id} option (set once the signature is frozen), or null. */
  public String id() {
    Object id = options.get("task_id");
    return id == null ? null : id.toString();
  }

  public boolean isGroup() {
    return "group".equals(subtaskType) || (subtaskType == null && "celery.group".equals(task));
  }

  public boolean isChord() {
    return "chord".equals(subtaskType) || (subtaskType == null && "celery.chord".equals(task));
  }

  public boolean isChain() {
    return "chain".equals(subtaskType);
  }

  /** Members of a group or chain ({@code kwargs.tasks}). */
  public List<Signature> tasks() {
    Object t = kwargs.get("tasks");
    if (!(t instanceof List)) {
      throw new IllegalArgumentException(subtaskType + " signature has no tasks list");
    }
    return listFrom(t);
  }

  /** A chord's header group ({@code kwargs.header}); a bare list of signatures is accepted too. */
  public Signature header() {
    Object h = kwargs.get("header");
    if (h instanceof List<?> l) {
      return Canvas.group(listFrom(l));
    }
    Signature g = from(h);
    return g.isGroup() ? g : Canvas.group(List.of(g));
  }

  /** A chord's body ({@code kwargs.body}). */
  public Signature body() {
    return from(kwargs.get("body"));
  }

  /** {@code .si()}: the parent's result is not prepended. */
  public Signature immutableCopy() {
    return new Signature(task, args, kwargs, options, subtaskType, true);
  }

  /** A copy with keyword arguments added. */
  public Signature withKwargs(Map<String, ?> more) {
    Map<String, Object> k = new LinkedHashMap<>(kwargs);
    k.putAll(more);
    return new Signature(task, args, k, options, subtaskType, immutable);
  }

  /**
   * {@code sig.set(key=value)}: a copy with one execution option set (queue, countdown, priority,
   * task_id, ...).
   */
  public Signature set(String option, Object value) {
    Map<String, Object> o = new LinkedHashMap<>(options);
    o.put(option, value);
    return new Signature(task, args, kwargs, o, subtaskType, immutable);
  }

  /** {@code sig.link(callback)}: run {@code callback} with this task's result after it succeeds. */
  public Signature link(Signature callback) {
    return appendOption("link", callback);
  }

  /** {@code sig.link_error(errback)}: send {@code errback} with this task's id if it fails. */
  public Signature linkError(Signature errback) {
    return appendOption("link_error", errback);
  }

  private Signature appendOption(String key, Signature s) {
    List<Object> l = new ArrayList<>();
    Object cur = options.get(key);
    if (cur instanceof List<?> list) {
      l.addAll(list);
    } else if (cur != null) {
      l.add(cur);
    }
    l.add(s.toMap());
    return set(key, l);
  }

  /** The dict form Celery sends, keys in Celery's order. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("task", task);
    m.put("args", new ArrayList<>(args));
    m.put("kwargs", new LinkedHashMap<>(kwargs));
    m.put("options", new LinkedHashMap<>(options));
    m.put("subtask_type", subtaskType);
    m.put("immutable", immutable);
    return m;
  }

  @Override
  public String toString() {
    return task + (subtaskType == null ? "" : "<" + subtaskType + ">") + args + kwargs;
  }

  static String abbreviate(Object o) {
    String s = String.valueOf(o);
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }
}

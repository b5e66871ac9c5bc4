package io.celerity.events;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a monitor knows of the cluster from Celery's events (Celery's {@code
 * celery.events.state.State}, which Flower keeps): the workers seen, with their heartbeats, and the
 * last {@code maxTasks} tasks with the fields of their events merged as Celery merges them. Plain
 * state, no I/O; not thread-safe (the control verticle's event loop owns it).
 */
public final class ClusterState {

  /**
   * Celery's {@code HEARTBEAT_EXPIRE_WINDOW}: a worker is alive until 200% of its interval after
   * its last heartbeat.
   */
  static final double HEARTBEAT_EXPIRE_WINDOW = 2.0;

  /** Celery keeps the last four heartbeats of a worker. */
  static final int HEARTBEAT_MAX = 4;

  /**
   * Celery's default interval for workers that never sent one (a task event counts as a heartbeat).
   */
  static final double DEFAULT_FREQ = 60.0;

  /** Celery's {@code states.PRECEDENCE}: index 0 wins; an unknown state sits where None does. */
  private static final List<String> PRECEDENCE =
      Arrays.asList(
          "SUCCESS",
          "FAILURE",
          null,
          "REVOKED",
          "STARTED",
          "RECEIVED",
          "REJECTED",
          "RETRY",
          "PENDING");

  /**
   * Celery's {@code Task.merge_rules}: an event that happened before the current state only fills
   * these in.
   */
  private static final List<String> RECEIVED_KEEPS =
      List.of("name", "args", "kwargs", "parent_id", "root_id", "retries", "eta", "expires");

  private static final Map<String, String> EVENT_TO_STATE =
      Map.of(
          "sent",
          "PENDING",
          "received",
          "RECEIVED",
          "started",
          "STARTED",
          "failed",
          "FAILURE",
          "retried",
          "RETRY",
          "succeeded",
          "SUCCESS",
          "revoked",
          "REVOKED",
          "rejected",
          "REJECTED");

  /**
   * Celery's {@code Task._fields}, the keys of {@code Task.as_dict()} that Flower's API returns.
   */
  public static final List<String> TASK_FIELDS =
      List.of(
          "uuid",
          "name",
          "state",
          "received",
          "sent",
          "started",
          "rejected",
          "succeeded",
          "failed",
          "retried",
          "revoked",
          "args",
          "kwargs",
          "eta",
          "expires",
          "retries",
          "worker",
          "result",
          "exception",
          "timestamp",
          "runtime",
          "traceback",
          "exchange",
          "routing_key",
          "clock",
          "client",
          "root",
          "root_id",
          "parent",
          "parent_id",
          "children");

  private static final int MAX_CHILDREN = 100;

  /** One task as its events told it: Celery's field names, values as the events carried them. */
  public static final class Task {
    private final Map<String, Object> fields = new LinkedHashMap<>();
    private final List<String> children = new ArrayList<>();

    Task(String uuid) {
      fields.put("uuid", uuid);
      fields.put("state", "PENDING"); // Celery's default, before any event
    }

    public String uuid() {
      return (String) fields.get("uuid");
    }

    public String name() {
      return (String) fields.get("name");
    }

    public String state() {
      return (String) fields.get("state");
    }

    public String worker() {
      return (String) fields.get("worker");
    }

    /** The time of the last event that set the state (Celery's {@code timestamp}). */
    public double timestamp() {
      return number(fields.get("timestamp"));
    }

    public Double runtime() {
      return fields.get("runtime") instanceof Number n ? n.doubleValue() : null;
    }

    /** The time of event {@code subject} ({@code received}, {@code succeeded}...), or null. */
    public Double at(String subject) {
      return fields.get(subject) instanceof Number n ? n.doubleValue() : null;
    }

    /**
     * Celery's {@code Task.as_dict()}, as Flower serves it: every field, root and parent as ids.
     */
    public Map<String, Object> asDict() {
      Map<String, Object> out = new LinkedHashMap<>();
      for (String k : TASK_FIELDS) {
        out.put(k, fields.get(k));
      }
      out.put("root", fields.get("root_id"));
      out.put("parent", fields.get("parent_id"));
      out.put("children", List.copyOf(children));
      return out;
    }

    void event(String subject, double timestamp, Map<String, Object> eventFields) {
      String state = EVENT_TO_STATE.getOrDefault(subject, subject.toUpperCase());
      if (EVENT_TO_STATE.containsKey(subject)) {
        fields.put(subject, timestamp);
      }
      Map<String, Object> merge = new LinkedHashMap<>(eventFields);
      if (!"RETRY".equals(state)
          && !"RETRY".equals(state())
          && precedence(state) > precedence(state())) {
        // this event happened before the current state (events of one task arrive from several
        // workers and loops): the state stays, a received event fills in only what it describes
        if ("RECEIVED".equals(state)) {
          merge.keySet().removeIf(k -> !RECEIVED_KEEPS.contains(k));
        }
      } else {
        merge.put("state", state);
        merge.put("timestamp", timestamp);
      }
      merge.remove("uuid");
      merge.remove("hostname");
      merge.remove("type");
      merge.remove("local_received");
      merge.remove("utcoffset");
      merge.remove("pid");
      fields.putAll(merge);
    }
  }

  /** One worker as its events told it. */
  public static final class Worker {
    private final Map<String, Object> fields = new LinkedHashMap<>();
    private final List<Double> heartbeats = new ArrayList<>();

    Worker(String hostname) {
      fields.put("hostname", hostname);
    }

    public String hostname() {
      return (String) fields.get("hostname");
    }

    public double freq() {
      return fields.get("freq") instanceof Number n && n.doubleValue() > 0
          ? n.doubleValue()
          : DEFAULT_FREQ;
    }

    /** Celery's {@code Worker.alive}: a heartbeat came within two intervals. */
    public boolean alive(double now) {
      return !heartbeats.isEmpty()
          && now < heartbeats.get(heartbeats.size() - 1) + freq() * HEARTBEAT_EXPIRE_WINDOW;
    }

    /**
     * The last event's fields ({@code active}, {@code processed}, {@code loadavg}, {@code
     * sw_ident}...).
     */
    public Map<String, Object> fields() {
      return fields;
    }

    /**
     * The worker as the dashboard shows it: its event fields, {@code status} and the last
     * heartbeat.
     */
    public Map<String, Object> view(double now) {
      Map<String, Object> out = new LinkedHashMap<>(fields);
      out.put("status", alive(now) ? "ONLINE" : "OFFLINE");
      out.put("alive", alive(now));
      out.put("heartbeats", List.copyOf(heartbeats));
      return out;
    }

    void heartbeat(double localReceived) {
      if (heartbeats.size() >= HEARTBEAT_MAX) {
        heartbeats.remove(0);
      }
      heartbeats.add(localReceived);
      heartbeats.sort(null);
    }

    void event(String subject, double localReceived, Map<String, Object> eventFields) {
      if (eventFields != null) {
        eventFields.forEach(
            (k, v) -> {
              if (!"type".equals(k) && !"local_received".equals(k)) {
                fields.put(k, v);
              }
            });
      }
      if ("offline".equals(subject)) {
        heartbeats.clear();
      } else {
        heartbeat(localReceived);
      }
    }
  }

  private final int maxTasks;
  private final int maxWorkers;
  private final LinkedHashMap<String, Task> tasks = new LinkedHashMap<>();
  private final LinkedHashMap<String, Worker> workers = new LinkedHashMap<>();
  private long eventCount;

  /**
   * @param maxTasks tasks kept (the oldest seen goes first); {@code maxWorkers} likewise
   */
  public ClusterState(int maxTasks, int maxWorkers) {
    if (maxTasks < 1 || maxWorkers < 1) {
      throw new IllegalArgumentException("the monitor keeps at least one task and one worker");
    }
    this.maxTasks = maxTasks;
    this.maxWorkers = maxWorkers;
  }

  /**
   * One event as a worker sent it ({@code type}, {@code hostname}, {@code timestamp}...), received
   * at {@code localReceived}.
   */
  public void event(Map<String, Object> event, double localReceived) {
    Object type = event.get("type");
    if (!(type instanceof String t) || !t.contains("-")) {
      return;
    }
    eventCount++;
    String group = t.substring(0, t.indexOf('-'));
    String subject = t.substring(t.indexOf('-') + 1);
    String hostname = event.get("hostname") instanceof String h ? h : null;
    double timestamp = event.get("timestamp") instanceof Number n ? n.doubleValue() : localReceived;
    if ("worker".equals(group) && hostname != null) {
      worker(hostname).event(subject, localReceived, event);
    } else if ("task".equals(group) && event.get("uuid") instanceof String uuid) {
      Task task = task(uuid);
      if (hostname != null) {
        Worker w = worker(hostname);
        w.heartbeat(localReceived); // Celery: a task event is a sign of life too
        task.fields.put("worker", hostname);
      }
      task.event(subject, timestamp, event);
      if (event.get("clock") instanceof Number c) {
        task.fields.put("clock", c.longValue());
      }
      if (event.get("parent_id") instanceof String parent
          && tasks.get(parent) != null
          && tasks.get(parent).children.size() < MAX_CHILDREN
          && !tasks.get(parent).children.contains(uuid)) {
        tasks.get(parent).children.add(uuid);
      }
    }
  }

  private Task task(String uuid) {
    return getOrCreate(tasks, uuid, Task::new, maxTasks);
  }

  private Worker worker(String hostname) {
    return getOrCreate(workers, hostname, Worker::new, maxWorkers);
  }

  /**
   * The entry of {@code key}, created when missing; past {@code max} entries the oldest created go.
   */
  private static <V> V getOrCreate(
      LinkedHashMap<String, V> map,
      String key,
      java.util.function.Function<String, V> create,
      int max) {
    V v = map.get(key);
    if (v == null) {
      v = create.apply(key);
      map.put(key, v);
      Iterator<String> oldest = map.keySet().iterator();
      while (map.size() > max) {
        oldest.next();
        oldest.remove();
      }
    }
    return v;
  }

  public Task task(String uuid, boolean create) {
    return create ? task(uuid) : tasks.get(uuid);
  }

  public Collection<Worker> workers() {
    return workers.values();
  }

  public Worker worker(String hostname, boolean create) {
    return create ? worker(hostname) : workers.get(hostname);
  }

  public int taskCount() {
    return tasks.size();
  }

  public long eventCount() {
    return eventCount;
  }

  /** Celery's {@code tasks_by_timestamp()}: the most recent state change first. */
  public List<Task> tasksByTimestamp() {
    List<Task> out = new ArrayList<>(tasks.values());
    out.sort((a, b) -> Double.compare(b.timestamp(), a.timestamp()));
    return out;
  }

  /**
   * Flower's task list: newest first, filtered by task name, worker and state (null: any), {@code
   * offset} skipped, at most {@code limit} (null: all).
   */
  public List<Task> tasks(String name, String worker, String state, int offset, Integer limit) {
    List<Task> out = new ArrayList<>();
    int i = 0;
    for (Task t : tasksByTimestamp()) {
      if ((name != null && !name.equals(t.name()))
          || (worker != null && t.worker() != null && !worker.equals(t.worker()))
          || (state != null && !state.equals(t.state()))) {
        continue;
      }
      if (i++ >= offset) {
        out.add(t);
      }
      if (limit != null && out.size() >= limit) {
        break;
      }
    }
    return out;
  }

  /** Celery's {@code task_types()}: the task names seen, sorted. */
  public List<String> taskTypes() {
    TreeSet<String> names = new TreeSet<>();
    tasks
        .values()
        .forEach(
            t -> {
              if (t.name() != null) {
                names.add(t.name());
              }
            });
    return new ArrayList<>(names);
  }

  /**
   * Per task name, over the tasks that finished ({@code succeeded} or {@code failed}) in the last
   * {@code window} seconds before {@code now}: counts by state, throughput per {@code bucket}
   * seconds (oldest bucket first), and runtime percentiles. What the dashboard plots.
   */
  public Map<String, TypeStats> typeStats(double now, double window, double bucket) {
    int buckets = Math.max(1, (int) Math.ceil(window / bucket));
    Map<String, TypeStats> out = new TreeMap<>();
    Map<String, List<Double>> runtimes = new TreeMap<>();
    for (Task t : tasks.values()) {
      if (t.name() == null) {
        continue;
      }
      TypeStats s =
          out.computeIfAbsent(
              t.name(), n -> new TypeStats(new TreeMap<>(), new long[buckets], 0, 0, 0, 0));
      s.states().merge(String.valueOf(t.state()), 1L, Long::sum);
      Double ended = t.at("succeeded") != null ? t.at("succeeded") : t.at("failed");
      if (ended == null || ended <= now - window || ended > now) {
        continue;
      }
      int b = Math.min(buckets - 1, (int) ((ended - (now - window)) / bucket));
      s.finished()[b]++;
      if (t.runtime() != null) {
        runtimes.computeIfAbsent(t.name(), n -> new ArrayList<>()).add(t.runtime());
      }
    }
    Map<String, TypeStats> withPercentiles = new TreeMap<>();
    out.forEach(
        (name, s) -> {
          List<Double> r = runtimes.getOrDefault(name, List.of());
          List<Double> sorted = new ArrayList<>(r);
          sorted.sort(null);
          long total = Arrays.stream(s.finished()).sum();
          withPercentiles.put(
              name,
              new TypeStats(
                  s.states(),
                  s.finished(),
                  total / window,
                  percentile(sorted, 0.5),
                  percentile(sorted, 0.9),
                  percentile(sorted, 0.99)));
        });
    return withPercentiles;
  }

  /**
   * One task name's figures.
   *
   * @param states tasks kept, by state
   * @param finished tasks finished per bucket, oldest first
   * @param rate finished per second over the window
   * @param p50 runtime percentiles (seconds) of those that finished in the window (0 when none)
   */
  public record TypeStats(
      Map<String, Long> states, long[] finished, double rate, double p50, double p90, double p99) {}

  /** The nearest-rank percentile of sorted values (0 for none). */
  static double percentile(List<Double> sorted, double q) {
    if (sorted.isEmpty()) {
      return 0;
    }
    int rank = (int) Math.ceil(q * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  private static int precedence(String state) {
    int i = PRECEDENCE.indexOf(state);
    return i >= 0 ? i : PRECEDENCE.indexOf(null);
  }

  private static double number(Object v) {
    return v instanceof Number n ? n.doubleValue() : 0;
  }
}

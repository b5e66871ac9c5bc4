package io.celerity.pool.process;

import io.celerity.WorkerVerticle;
import io.celerity.config.WorkerOptions;
import io.celerity.pool.Bodies;
import io.celerity.task.TaskContext;
import io.celerity.task.TaskDefinition;
import io.celerity.task.TaskRegistry;
import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A Java child of {@code -P process}: reads its connection details from stdin, connects back to the
 * parent, loads the same tasks as the worker and runs one task at a time. Blocking I/O is fine
 * here: the child has no event loop.
 */
public final class ChildMain {

  private static final Path STATUS = Path.of("/proc/self/status");

  private final TaskRegistry registry;
  private final DataOutputStream out;

  /** Resident memory in every reply (max_memory_per_child); otherwise only the heartbeat has it. */
  private boolean rssPerTask;

  private final ExecutorService executor =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "celerity-child-task");
            t.setDaemon(true);
            return t;
          });
  private volatile Running current;

  /**
   * Jobs read and not begun yet (child_pipeline: one may wait behind the running one); the parent
   * may take them back with {@code unqueue}. Guarded by itself.
   */
  private final java.util.Set<Long> queued = new java.util.HashSet<>();

  /** The job being run, with the thread running it (for the soft limit). */
  private record Running(long job, Context ctx, Thread thread) {}

  private ChildMain(TaskRegistry registry, DataOutputStream out) {
    this.registry = registry;
    this.out = out;
  }

  public static void main(String[] args) throws Exception {
    BufferedReader stdin =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    JsonObject hs = new JsonObject(stdin.readLine());
    WorkerOptions options =
        new WorkerOptions(
            new JsonObject()
                .put("app", hs.getJsonArray("app"))
                .put("load_examples", hs.getBoolean("load_examples", true)));
    Socket socket = new Socket(hs.getString("host"), hs.getInteger("port"));
    socket.setTcpNoDelay(true);
    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    ChildMain child = new ChildMain(null, out);
    child.send(
        Map.of(
            "type",
            "hello",
            "token",
            hs.getString("token"),
            "pid",
            ProcessHandle.current().pid(),
            "lang",
            "java",
            "protocol",
            1,
            "pipeline",
            true));
    TaskRegistry registry = WorkerVerticle.buildRegistry(options);
    child = new ChildMain(registry, out);
    child.rssPerTask = hs.getBoolean("rss_per_task", false);
    child.ready();
    child.heartbeats(hs.getDouble("heartbeat", 5.0));
    child.loop(new DataInputStream(new BufferedInputStream(socket.getInputStream())));
  }

  private void ready() throws IOException {
    List<Object> tasks = new ArrayList<>();
    for (String name : registry.names()) {
      tasks.add(Map.of("name", name));
    }
    send(Map.of("type", "ready", "tasks", tasks));
  }

  private void heartbeats(double seconds) {
    Thread t =
        new Thread(
            () -> {
              try {
                while (true) {
                  Thread.sleep((long) (seconds * 1000));
                  send(Map.of("type", "heartbeat", "rss_kib", Frames.rssKib(STATUS)));
                }
              } catch (InterruptedException | IOException e) {
                Runtime.getRuntime().halt(0); // the parent is gone
              }
            },
            "celerity-child-heartbeat");
    t.setDaemon(true);
    t.start();
  }

  private void loop(DataInputStream in) throws Exception {
    while (true) {
      Map<String, Object> m = readOrNull(in);
      if (m == null) {
        Runtime.getRuntime().halt(0); // the parent closed the connection or died
        return;
      }
      switch (String.valueOf(m.get("type"))) {
        case "run" -> {
          synchronized (queued) {
            queued.add(((Number) m.get("job")).longValue());
          }
          executor.execute(() -> run(m));
        }
        case "unqueue" -> {
          long job = ((Number) m.get("job")).longValue();
          boolean skip;
          synchronized (queued) {
            skip = queued.remove(job); // false once begun: then it runs and replies as usual
          }
          send(Map.of("type", skip ? "skipped" : "begun", "job", job));
        }
        case "soft_limit" -> {
          Running r = current;
          if (r != null && r.job == ((Number) m.get("job")).longValue()) {
            r.ctx.soft = true;
            r.thread.interrupt();
          }
        }
        case "shutdown" -> {
          executor.shutdown();
          executor.awaitTermination(1, TimeUnit.DAYS);
          out.flush();
          System.exit(0);
        }
        default -> System.err.println("celerity child: unknown message " + m.get("type"));
      }
    }
  }

  private static Map<String, Object> readOrNull(DataInputStream in) {
    try {
      return Frames.read(in);
    } catch (IOException e) {
      return null;
    }
  }

  private void run(Map<String, Object> m) {
    long job = ((Number) m.get("job")).longValue();
    synchronized (queued) {
      if (!queued.remove(job)) {
        return; // taken back (unqueue): the parent has its 'skipped'
      }
    }
    TaskDefinition def = registry.get(String.valueOf(m.get("task")));
    Context ctx =
        new Context(m, def == null ? io.celerity.task.TaskOptions.DEFAULTS : def.options());
    current = new Running(job, ctx, Thread.currentThread());
    Bodies.Ended ended;
    if (def == null) {
      ended =
          new Bodies.Ended(null, io.celerity.protocol.ExceptionInfo.notRegistered(ctx.taskName()));
    } else {
      ended = Bodies.run(def.function(), ctx, def.options());
    }
    current = null;
    Thread.interrupted();
    Map<String, Object> reply = new LinkedHashMap<>();
    reply.put("job", job);
    if (ended.retry() != null) {
      // the parent republishes the copy (docs/wire-protocol.md §8) and stores RETRY
      reply.put("type", "retry");
      io.celerity.protocol.ExceptionInfo why =
          ended.error() != null
              ? ended.error()
              : io.celerity.protocol.ExceptionInfo.of(
                  io.celerity.protocol.ExceptionInfo.CELERY_EXCEPTIONS,
                  "Retry",
                  ended.retry().getMessage());
      reply.put("exc_type", why.type());
      reply.put("exc_module", why.module());
      reply.put("exc_message", why.args());
      reply.put("traceback", why.traceback());
      reply.put("args", ended.retry().args());
      reply.put("kwargs", ended.retry().kwargs());
      reply.put("countdown", ended.retry().countdown());
      reply.put("eta", io.celerity.protocol.IsoTime.utc(ended.retry().eta()));
    } else if (ended.error() == null) {
      reply.put("type", "result");
      reply.put("value", ended.value());
    } else {
      reply.put("type", "error");
      reply.put("exc_type", ended.error().type());
      reply.put("exc_module", ended.error().module());
      reply.put("exc_message", ended.error().args());
      reply.put("traceback", ended.error().traceback());
    }
    if (rssPerTask) { // max_memory_per_child: the parent checks after each task
      reply.put("rss_kib", Frames.rssKib(STATUS));
    }
    try {
      send(reply);
    } catch (IOException e) {
      Runtime.getRuntime().halt(0);
    }
  }

  private void send(Map<String, Object> message) throws IOException {
    synchronized (out) {
      Frames.write(out, message);
    }
  }

  /** Celery's {@code self.request}, from the run message. */
  @SuppressWarnings("unchecked")
  static final class Context implements TaskContext {
    private final Map<String, Object> m;
    private final Map<String, Object> req;
    private final io.celerity.task.TaskOptions options;
    volatile boolean soft;

    Context(Map<String, Object> m, io.celerity.task.TaskOptions options) {
      this.m = m;
      this.options = options;
      Object r = m.get("request");
      this.req = r instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    private String s(Map<String, Object> from, String key) {
      Object v = from.get(key);
      return v == null ? null : v.toString();
    }

    @Override
    public io.celerity.task.Retry retry(
        Throwable exc,
        Double countdown,
        Integer maxRetries,
        List<Object> args,
        Map<String, Object> kwargs) {
      throw io.celerity.pool.Retries.retry(this, options, exc, countdown, maxRetries, args, kwargs);
    }

    @Override
    public String id() {
      return s(m, "id");
    }

    @Override
    public String taskName() {
      return s(m, "task");
    }

    @Override
    public int retries() {
      Object v = req.get("retries");
      return v instanceof Number n ? n.intValue() : 0;
    }

    @Override
    public List<Object> args() {
      Object v = m.get("args");
      return v instanceof List<?> l ? (List<Object>) l : List.of();
    }

    @Override
    public Map<String, Object> kwargs() {
      Object v = m.get("kwargs");
      return v instanceof Map<?, ?> k ? (Map<String, Object>) k : Map.of();
    }

    @Override
    public String rootId() {
      return s(req, "root_id");
    }

    @Override
    public String parentId() {
      return s(req, "parent_id");
    }

    @Override
    public String group() {
      return s(req, "group");
    }

    @Override
    public String hostname() {
      return s(req, "hostname");
    }

    @Override
    public Map<String, Object> headers() {
      Object v = m.get("headers");
      return v instanceof Map<?, ?> h ? (Map<String, Object>) h : Map.of();
    }

    @Override
    public boolean softTimeLimitExceeded() {
      return soft;
    }
  }
}

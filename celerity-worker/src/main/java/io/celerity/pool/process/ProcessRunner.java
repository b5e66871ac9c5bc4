package io.celerity.pool.process;

import io.celerity.config.WorkerOptions;
import io.celerity.pool.Job;
import io.celerity.pool.Runner;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.task.TaskFunction;
import io.celerity.task.TaskOptions;
import io.celerity.task.TaskRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code -P process}: task bodies run in child processes (Java children by default, or any command
 * speaking the child protocol, such as the Python runner). Children connect back to a Vert.x
 * NetServer on 127.0.0.1 and prove who they are with a per-child token handed over on their stdin;
 * their frames are read on this runner's event loop, never by a blocking thread per child.
 *
 * <p>Event-loop confined: every method runs on the pool-dispatcher's context.
 */
public final class ProcessRunner implements Runner {

  private static final Logger log = LoggerFactory.getLogger("celery.pool.process");
  private static final SecureRandom RANDOM = new SecureRandom();
  static final String PYTHON_RUNNER = "python/celerity_child.py";

  /**
   * A child sends its hello right after connecting; a connection silent this long is not a child.
   */
  static final long HANDSHAKE_TIMEOUT_MS = 5_000;

  /**
   * A child writes each frame whole (one send); one still incomplete after this long is stuck
   * half-way (a truncated frame): the child is out of step.
   */
  static final long PARTIAL_FRAME_TIMEOUT_MS = 5_000;

  /** Largest frame before the hello (which is about 100 bytes). */
  static final int MAX_HELLO_FRAME = 4096;

  /**
   * Connections allowed to wait for their hello beyond one per child that has not connected yet.
   */
  static final int SPARE_UNAUTHENTICATED = 4;

  private final Vertx vertx;
  private final Context context;
  private final WorkerOptions options;
  private final TaskRegistry registry;

  /** child_pipeline, read once: it is asked for every task. */
  private final boolean pipeline;

  private final Map<String, Child> byToken = new HashMap<>();

  /** Live children that take work (not retiring, not killed). */
  private final List<Child> children = new ArrayList<>();

  private final Map<Job, Child> byJob = new IdentityHashMap<>();
  private final Deque<Pending> waiting = new ArrayDeque<>();

  /** Python {@code async def} tasks waiting for a child with a free coroutine slot. */
  private final Deque<Pending> waitingAsync = new ArrayDeque<>();

  /** Tasks the children run as coroutines, several per child ({@code child_async_concurrency}). */
  private final Set<String> childAsync = ConcurrentHashMap.newKeySet();

  /** The job number of each job given to a child (frames about a task carry it). */
  private final Map<Job, Long> numbers = new IdentityHashMap<>();

  private final Set<String> rejectOnLost = ConcurrentHashMap.newKeySet();
  private NetServer server;
  private Path pythonPath;
  private int target;
  private long jobCounter;
  private long spawned;
  private long lastStartupNanos;
  private boolean closed;
  private Promise<Void> warm;
  private int unauthenticated;
  private long watchdog = -1;
  private long stealTimer = -1;

  /**
   * Tasks written to a busy child (child_pipeline), and those of them taken back for an idle one.
   */
  private long pipelined;

  private long stolen;

  /**
   * The Python app's own non-default settings, as its first child reported them (null for Java
   * children).
   */
  private JsonObject appConf;

  /**
   * A task queued in a busy child is taken back for an idle child once the child's current task has
   * run this long: a queued task never waits long behind a long one.
   */
  static final long STEAL_AFTER_MS = 10;

  /** A task handed to the runner, not written to a child yet. */
  private static final class Pending {
    final Job job;
    final Completion completion;

    /** From a pool with a lookahead: the runner claims the job and reports its start. */
    final boolean startsItself;

    boolean claimed;

    Pending(Job job, Completion completion, boolean startsItself) {
      this.job = job;
      this.completion = completion;
      this.startsItself = startsItself;
    }
  }

  /** A synchronous task written to a child, as the parent sees it. */
  enum SlotState {
    /** Runs (the child's first slot, reported started) or will run after the one before it. */
    RUN,
    /**
     * Taken back by the pool (revoke, shutdown) before it started: the child is told to skip it.
     */
    DROPPED,
    /** Asked back for an idle child: once the child skips it, it goes to another child. */
    STOLEN
  }

  /** A synchronous task in a child: the first one runs, a second one waits in the child. */
  static final class Slot {
    final Pending pending;
    final long number;
    SlotState state = SlotState.RUN;
    boolean started;

    Slot(Pending pending, long number) {
      this.pending = pending;
      this.number = number;
    }

    Job job() {
      return pending.job;
    }
  }

  /**
   * A coroutine in a child; given up ones (hard limit, terminate) stay until the child says it
   * ended.
   */
  static final class Coroutine {
    final Job job;
    final Completion completion;
    boolean abandoned;

    Coroutine(Job job, Completion completion) {
      this.job = job;
      this.completion = completion;
    }
  }

  /** One child process and what it is doing. */
  static final class Child {
    final String token = HexFormat.of().formatHex(randomBytes());
    final long spawnedNanos = System.nanoTime();
    Process process;
    NetSocket socket;
    Frames.Reader reader;
    long pid;
    boolean ready;
    boolean retiring;
    boolean killed;
    boolean exited;

    /**
     * Synchronous tasks written to it, in the order it runs them: the first runs, a second waits
     * (child_pipeline).
     */
    final Deque<Slot> slots = new ArrayDeque<>(2);

    /** When its first slot started (System.nanoTime). */
    long headSince;

    /** It announced in its hello that it queues a second task and skips one it is told to. */
    boolean pipelines;

    /** The sync job it replied for last (a second reply for it is only logged). */
    long lastJobNumber = -1;

    String lastJob;

    int tasksDone;
    long rssKib;
    long lastHeartbeatNanos;

    /**
     * Coroutines the child may run at once (from its hello; 0 for children without async tasks).
     */
    int asyncCapacity;

    /** Async tasks in flight in this child, by job number. */
    final Map<Long, Coroutine> coroutines = new LinkedHashMap<>();

    private static byte[] randomBytes() {
      byte[] b = new byte[16];
      RANDOM.nextBytes(b);
      return b;
    }

    boolean idle() {
      return ready && !retiring && !killed && slots.isEmpty();
    }

    /**
     * It runs a task and queues none (nor is it due to be recycled after the one it runs): it can
     * take one more.
     */
    boolean canQueue(int maxTasks) {
      return pipelines
          && ready
          && !retiring
          && !killed
          && slots.size() == 1
          && slots.peekFirst().started
          && (maxTasks <= 0 || tasksDone + 2 <= maxTasks);
    }

    Slot head() {
      return slots.peekFirst();
    }

    int freeCoroutines() {
      return ready && !retiring && !killed ? asyncCapacity - coroutines.size() : 0;
    }

    /** Runs nothing: neither a task nor a coroutine (given-up ones included). */
    boolean empty() {
      return slots.isEmpty() && coroutines.isEmpty();
    }
  }

  public ProcessRunner(Vertx vertx, Context context, WorkerOptions options, TaskRegistry registry) {
    this.vertx = vertx;
    this.context = context;
    this.options = options;
    this.registry = registry;
    this.pipeline = options.isChildPipeline();
  }

  private boolean javaChildren() {
    return options.getChildCommand().isEmpty();
  }

  /** Spares kept warm so recycling or a kill never makes a task wait for a child to boot. */
  private int spares() {
    return options.getMaxTasksPerChild() > 0 || options.getMaxMemoryPerChild() > 0 ? 1 : 0;
  }

  @Override
  public Future<Void> warmUp(int concurrency) {
    target = concurrency;
    warm = Promise.promise();
    long timeout = (long) (options.getChildStartTimeout() * 1000);
    vertx.setTimer(
        timeout,
        id -> {
          if (warm.tryFail(
              "children did not start within " + options.getChildStartTimeout() + "s")) {
            close();
          }
        });
    return vertx
        .createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0).setTcpNoDelay(true))
        .connectHandler(this::connected)
        .listen()
        .compose(
            s -> {
              server = s;
              watchdog = vertx.setPeriodic(1000, id -> stuckFrames());
              return javaChildren()
                  ? Future.succeededFuture()
                  : vertx.executeBlocking(this::extractPythonRunner);
            })
        .compose(
            v -> {
              log.info(
                  "Starting {} {} child process(es)",
                  target + spares(),
                  javaChildren() ? "Java" : "external");
              fill();
              return warm.future();
            });
  }

  private Void extractPythonRunner() throws IOException {
    Path dir = Files.createTempDirectory("celerity-python");
    Path file = dir.resolve("celerity_child.py");
    try (InputStream in = ProcessRunner.class.getClassLoader().getResourceAsStream(PYTHON_RUNNER)) {
      if (in == null) {
        throw new IOException(PYTHON_RUNNER + " is missing from the class path");
      }
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
    }
    file.toFile().deleteOnExit();
    dir.toFile().deleteOnExit();
    pythonPath = dir;
    return null;
  }

  /** Starts children until the pool has its target (plus spares). */
  private void fill() {
    while (!closed && children.size() < target + spares()) {
      spawn();
    }
  }

  private void spawn() {
    Child child = new Child();
    children.add(child);
    byToken.put(child.token, child);
    spawned++;
    vertx
        .executeBlocking(() -> startProcess(child), false)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                log.error("Could not start a child process: {}", ar.cause().getMessage());
                forget(child);
                if (warm != null && warm.tryFail(ar.cause())) {
                  close();
                }
                return;
              }
              child.process = ar.result();
              child.pid = child.process.pid();
              child
                  .process
                  .onExit()
                  .whenComplete((p, err) -> context.runOnContext(x -> exited(child)));
            });
  }

  private List<String> command() {
    if (!javaChildren()) {
      return options.getChildCommand();
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(options.getChildJvmOptions());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ChildMain.class.getName()));
    return cmd;
  }

  /** Runs on a worker thread: fork/exec and the one-line handshake on stdin are blocking calls. */
  private Process startProcess(Child child) throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(command())
            .redirectOutput(ProcessBuilder.Redirect.INHERIT)
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment()
        .put("CELERITY_LOG_FORMAT", options.getLogFormat()); // Java children log as the worker does
    if (pythonPath != null) {
      String old = pb.environment().get("PYTHONPATH");
      pb.environment()
          .put(
              "PYTHONPATH",
              pythonPath + (old == null || old.isEmpty() ? "" : java.io.File.pathSeparator + old));
      pb.environment().put("PYTHONUNBUFFERED", "1");
    }
    Process p = pb.start();
    JsonObject handshake =
        new JsonObject()
            .put("host", "127.0.0.1")
            .put("port", server.actualPort())
            .put("token", child.token)
            .put("app", new JsonArray(options.getApps()))
            .put("load_examples", options.isLoadExamples())
            .put("heartbeat", 5.0)
            .put("hostname", options.getHostname())
            .put("broker_url", reachable(options.getBroker()))
            .put("result_backend", reachable(options.getResultBackend()))
            // the tracer hands a task's final state over, written with the worker's own results
            .put("defer_stores", defersStores(options))
            .put("async_concurrency", options.getChildAsyncConcurrency())
            .put("async_loop", options.getChildAsyncLoop())
            // a /proc read per task only when max_memory_per_child needs it (else the heartbeat's)
            .put("rss_per_task", options.getMaxMemoryPerChild() > 0)
            .put("blocked_threshold", options.getAsyncBlockedThreshold());
    try (OutputStream stdin = p.getOutputStream()) {
      stdin.write((handshake.encode() + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return p;
  }

  /** True when the worker's own backend is the Redis a Python child's tracer writes into. */
  static boolean defersStores(WorkerOptions options) {
    String scheme = io.celerity.config.Urls.scheme(String.valueOf(options.getResultBackend()));
    return options.isChildDeferStores() && ("redis".equals(scheme) || "rediss".equals(scheme));
  }

  /**
   * A broker or backend URL another process can use too (not the in-JVM memory:// ones), else null.
   */
  static String reachable(String url) {
    if (url == null
        || url.isBlank()
        || url.startsWith("memory:")
        || url.equals("disabled")
        || url.equals("none")) {
      return null;
    }
    return url;
  }

  /**
   * {@code inspect conf} of a Python app: {@code app.conf.table(with_defaults=False)} as Celery's
   * control command encodes it, reported by the first Python child at its start; null with Java
   * children or before a Python child is ready.
   */
  public JsonObject appConf() {
    return appConf == null ? null : appConf.copy();
  }

  /**
   * A connection proves it belongs to a child with its first frame, a small {@code hello} carrying
   * an expected, unused token, within {@link #HANDSHAKE_TIMEOUT_MS}; until then it may send at most
   * {@link #MAX_HELLO_FRAME} bytes, and only a few such connections may be open at once (one per
   * child still expected, plus {@link #SPARE_UNAUTHENTICATED}), so local strangers cannot make the
   * worker buffer large frames.
   */
  private void connected(NetSocket socket) {
    long expected = byToken.values().stream().filter(c -> c.socket == null).count();
    if (unauthenticated >= expected + SPARE_UNAUTHENTICATED) {
      log.warn(
          "Refused a connection from {}: {} connections have not identified themselves yet",
          socket.remoteAddress(),
          unauthenticated);
      socket.close();
      return;
    }
    unauthenticated++;
    Child[] owner = {null};
    boolean[] counted = {true};
    Runnable authenticated =
        () -> {
          if (counted[0]) {
            counted[0] = false;
            unauthenticated--;
          }
        };
    long timer =
        vertx.setTimer(
            HANDSHAKE_TIMEOUT_MS,
            id -> {
              if (owner[0] == null) {
                log.warn(
                    "Closed a connection from {}: no valid hello within {} ms",
                    socket.remoteAddress(),
                    HANDSHAKE_TIMEOUT_MS);
                socket.close();
              }
            });
    Frames.Reader[] readers = {null};
    Frames.Reader reader =
        Frames.parser(
            bytes -> {
              Map<String, Object> m;
              try {
                m = Frames.decode(bytes);
              } catch (IOException | RuntimeException e) {
                unreadable(owner[0], socket, "undecodable frame: " + e.getMessage());
                return;
              }
              if (owner[0] == null) {
                Child c =
                    "hello".equals(m.get("type"))
                        ? byToken.get(String.valueOf(m.get("token")))
                        : null;
                if (c == null || c.socket != null) {
                  log.warn(
                      "Rejected a connection without a valid child token from {}",
                      socket.remoteAddress());
                  socket.close();
                  return;
                }
                vertx.cancelTimer(timer);
                authenticated.run();
                owner[0] = c;
                c.socket = socket;
                c.reader = readers[0];
                c.asyncCapacity = m.get("async_capacity") instanceof Number n ? n.intValue() : 0;
                c.pipelines = Boolean.TRUE.equals(m.get("pipeline"));
                c.lastHeartbeatNanos = System.nanoTime();
                return;
              }
              try {
                frame(owner[0], m);
              } catch (RuntimeException e) {
                unreadable(owner[0], socket, "malformed " + m.get("type") + " message: " + e);
              }
            },
            err -> unreadable(owner[0], socket, err.getMessage()),
            () -> owner[0] == null ? MAX_HELLO_FRAME : Frames.MAX_FRAME);
    readers[0] = reader;
    socket.handler(reader);
    socket.closeHandler(
        v -> {
          vertx.cancelTimer(timer);
          authenticated.run();
          if (owner[0] != null && !owner[0].exited && owner[0].process != null && !closed) {
            owner[0].process.destroy(); // a child without its connection is useless
          }
        });
  }

  /**
   * A frame the parent cannot read. Before the hello it is a stranger: closed. From a child, the
   * protocol is out of step: its task (if any) is settled now as FAILURE (kombu's DecodeError, with
   * the task id in the log), and the child is killed and replaced.
   */
  private void unreadable(Child child, NetSocket socket, String why) {
    if (child == null) {
      log.warn("Closed a connection from {}: {}", socket.remoteAddress(), why);
      socket.close();
      return;
    }
    if (child.reader != null) {
      child.reader.stop();
    }
    Slot head = child.head();
    if (head != null && head.started && head.state == SlotState.RUN) {
      Job job = head.job();
      Completion c = head.pending.completion;
      child.slots.pollFirst();
      byJob.remove(job);
      numbers.remove(job);
      requeueUnstarted(child);
      log.error(
          "Child {} sent a reply for {} that cannot be read ({}); the task fails and the child is replaced",
          child.pid,
          job.request().logName(),
          why);
      c.done(
          null,
          ExceptionInfo.of(
              "kombu.exceptions", "DecodeError", "Child reply could not be read: " + why));
    } else {
      requeueUnstarted(child);
      log.error(
          "Child {} sent a frame that cannot be read ({}); the child is replaced{}",
          child.pid,
          why,
          child.coroutines.isEmpty()
              ? ""
              : " and its coroutines are lost: "
                  + child.coroutines.values().stream()
                      .map(co -> co.job.request().logName())
                      .toList());
    }
    if (!child.killed && !child.exited) {
      child.killed = true;
      children.remove(child);
      kill(child);
      fill();
    }
    socket.close();
    pump();
  }

  /** Children stuck half-way through a frame for {@link #PARTIAL_FRAME_TIMEOUT_MS}. */
  private void stuckFrames() {
    long now = System.nanoTime();
    for (Child c : new ArrayList<>(byToken.values())) {
      long since = c.reader == null ? 0 : c.reader.partialSince();
      if (since != 0 && !c.killed && now - since > PARTIAL_FRAME_TIMEOUT_MS * 1_000_000) {
        unreadable(
            c, c.socket, "a frame still incomplete after " + PARTIAL_FRAME_TIMEOUT_MS + " ms");
      }
    }
  }

  private void frame(Child child, Map<String, Object> m) {
    if (child.killed) {
      return; // being killed (hard limit, terminate, out of step): its late words change nothing
    }
    switch (String.valueOf(m.get("type"))) {
      case "ready" -> ready(child, m);
      case "heartbeat" -> {
        child.lastHeartbeatNanos = System.nanoTime();
        child.rssKib = ChildProtocol.number(m.get("rss_kib"), child.rssKib);
      }
      case "result", "error", "retry", "traced" -> finished(child, m);
      case "skipped" -> skipped(child, m);
      case "begun" -> begun(child, m);
      case "cancelled" -> {
        if (child.coroutines.remove(ChildProtocol.number(m.get("job"), -1)) == null) {
          throw new IllegalStateException("job " + m.get("job") + " is not in this child");
        }
        pump();
      }
      case "blocked" -> blocked(child, m);
      default -> log.warn("Unknown message '{}' from child {}", m.get("type"), child.pid);
    }
  }

  @SuppressWarnings("unchecked")
  private void ready(Child child, Map<String, Object> m) {
    child.ready = true;
    lastStartupNanos = System.nanoTime() - child.spawnedNanos;
    log.debug("Child {} ready in {} ms", child.pid, lastStartupNanos / 1_000_000);
    if (appConf == null && m.get("conf") instanceof Map<?, ?> conf) {
      appConf = new JsonObject((Map<String, Object>) conf);
    }
    if (m.get("tasks") instanceof List<?> tasks) {
      for (Object t : tasks) {
        if (t instanceof Map<?, ?> task) {
          register((Map<String, Object>) task);
        }
      }
    }
    if (warm != null
        && !warm.future().isComplete()
        && children.stream().filter(c -> c.ready).count() >= target) {
      log.info(
          "{} child process(es) ready (last in {} ms)",
          children.size(),
          lastStartupNanos / 1_000_000);
      warm.tryComplete();
    }
    pump();
  }

  /**
   * Tasks only the children know (Python) are registered in the worker so the consumer accepts
   * them.
   */
  private void register(Map<String, Object> task) {
    String name = String.valueOf(task.get("name"));
    boolean async = Boolean.TRUE.equals(task.get("async"));
    if (async) {
      childAsync.add(name);
    }
    if (Boolean.TRUE.equals(task.get("reject_on_worker_lost"))) {
      rejectOnLost.add(name);
    }
    if (registry.get(name) != null) {
      return;
    }
    // A traced task's tracer stores STARTED itself (the task's track_started, from the app's
    // config, as
    // in Celery): the worker must not write one too, which could land after the final state.
    Boolean trackStarted =
        Boolean.TRUE.equals(task.get("traced")) ? Boolean.FALSE : flag(task.get("track_started"));
    TaskOptions o =
        TaskOptions.builder()
            .acksLate(flag(task.get("acks_late")))
            .trackStarted(trackStarted)
            .ignoreResult(flag(task.get("ignore_result")))
            .timeLimits(seconds(task.get("time_limit")), seconds(task.get("soft_time_limit")))
            .build();
    TaskFunction stub =
        ctx -> {
          throw new IllegalStateException(name + " runs only in a child process");
        };
    if (async) {
      registry.registerAsync(name, o, stub);
    } else {
      registry.register(name, o, stub);
    }
  }

  private static Boolean flag(Object v) {
    return Boolean.TRUE.equals(v) ? Boolean.TRUE : null;
  }

  private static Double seconds(Object v) {
    return v instanceof Number n && n.doubleValue() > 0 ? n.doubleValue() : null;
  }

  @Override
  public boolean rejectsOnWorkerLost(String taskName) {
    return rejectOnLost.contains(taskName);
  }

  /** Whether the children run {@code taskName} as a coroutine ({@code async def}). */
  public boolean runsAsync(String taskName) {
    return childAsync.contains(taskName);
  }

  /**
   * This runner as the pool of the children's coroutines sees it: the same children, bounded by
   * their free coroutine slots; the children's number and life stay the main pool's business.
   */
  public Runner coroutines() {
    ProcessRunner self = this;
    return new Runner() {
      @Override
      public void start(Job job, Completion completion) {
        self.enqueue(new Pending(job, completion, false));
      }

      @Override
      public void softLimit(Job job) {
        self.softLimit(job);
      }

      @Override
      public void hardLimit(Job job) {
        self.hardLimit(job);
      }

      @Override
      public void terminate(Job job, String signal) {
        self.terminate(job, signal);
      }

      @Override
      public boolean rejectsOnWorkerLost(String taskName) {
        return self.rejectsOnWorkerLost(taskName);
      }

      @Override
      public void close() {}
    };
  }

  /**
   * With {@code child_pipeline}, the pool hands the runner a job per child more than it has slots,
   * so a child that replies finds its next task already written (or waiting here, to be written at
   * once): the runner claims and starts jobs itself, as the thread pool does.
   */
  @Override
  public int lookahead(int concurrency) {
    return pipeline ? 2 * concurrency : 0;
  }

  @Override
  public void start(Job job, Completion completion) {
    enqueue(new Pending(job, completion, pipeline));
  }

  private void enqueue(Pending p) {
    (runsAsync(p.job.request().message().task()) ? waitingAsync : waiting).addLast(p);
    pump();
  }

  /**
   * Sync tasks to idle children, else queued behind a short task in a child that can queue one;
   * coroutines to the child with the most free coroutine slots.
   */
  private void pump() {
    while (!waiting.isEmpty()) {
      Child child = childForNext();
      if (child == null) {
        break;
      }
      Pending p = waiting.pollFirst();
      if (claim(p)) {
        write(child, p);
      }
    }
    if (pipeline && waiting.isEmpty()) {
      stealForIdle();
    }
    while (!waitingAsync.isEmpty()) {
      Child child =
          children.stream()
              .max(java.util.Comparator.comparingInt(Child::freeCoroutines))
              .orElse(null);
      if (child == null || child.freeCoroutines() <= 0) {
        return;
      }
      Pending p = waitingAsync.pollFirst();
      if (!claim(p)) {
        continue;
      }
      long number = ++jobCounter;
      child.coroutines.put(number, new Coroutine(p.job, p.completion));
      byJob.put(p.job, child);
      numbers.put(p.job, number);
      reportStart(p);
      child.socket.write(Frames.buffer(ChildProtocol.runFrame(p.job, number, javaChildren())));
    }
  }

  /**
   * An idle child; else, with child_pipeline, the child whose task started last among those that
   * can queue one (a task that has run long is likely to run longer).
   */
  private Child childForNext() {
    Child queueing = null;
    int maxTasks = options.getMaxTasksPerChild();
    for (Child c : children) {
      if (c.idle()) {
        return c;
      }
      if (pipeline
          && c.canQueue(maxTasks)
          && (queueing == null || c.headSince > queueing.headSince)) {
        queueing = c;
      }
    }
    return queueing;
  }

  /**
   * A job from a pool with a lookahead is the runner's to start once claimed: false when the pool
   * took it back meanwhile (revoke, shutdown) or it expired while it waited (then reported so).
   */
  private static boolean claim(Pending p) {
    if (!p.startsItself || p.claimed) {
      return true;
    }
    if (!p.job.claim()) {
      return false;
    }
    p.claimed = true;
    if (p.job.expired()) {
      p.completion.expired();
      return false;
    }
    return true;
  }

  private static void reportStart(Pending p) {
    if (p.startsItself) {
      p.job.startsNow();
      p.completion.started();
    }
  }

  private void write(Child child, Pending p) {
    Slot slot = new Slot(p, ++jobCounter);
    child.slots.addLast(slot);
    byJob.put(p.job, child);
    numbers.put(p.job, slot.number);
    if (child.slots.size() == 1) {
      begin(child, slot);
    } else {
      pipelined++;
    }
    child.socket.write(Frames.buffer(ChildProtocol.runFrame(p.job, slot.number, javaChildren())));
  }

  /** The child's first slot runs now: the pool's time limits and events start with it. */
  private static void begin(Child child, Slot slot) {
    child.headSince = System.nanoTime();
    slot.started = true;
    reportStart(slot.pending);
  }

  /** The child answered its first slot: the next one (if any) is the one it runs now. */
  private static void promote(Child child) {
    Slot next = child.head();
    if (next != null) {
      child.headSince = System.nanoTime();
      if (next.state == SlotState.RUN && !next.started) {
        begin(child, next);
      }
    }
  }

  /**
   * A child idles while another holds a task queued behind one that has run {@link
   * #STEAL_AFTER_MS}: that child is asked to skip it, and the task goes to the idle one. Checked
   * again when the youngest such task reaches the age.
   */
  private void stealForIdle() {
    long idle = children.stream().filter(Child::idle).count();
    if (idle == 0) {
      return;
    }
    long now = System.nanoTime();
    long soonest = Long.MAX_VALUE;
    for (Child c : children) {
      Slot queued = c.slots.size() > 1 ? c.slots.peekLast() : null;
      if (queued == null || queued.state != SlotState.RUN || queued.started || c.killed) {
        continue;
      }
      long age = now - c.headSince;
      if (age >= STEAL_AFTER_MS * 1_000_000) {
        queued.state = SlotState.STOLEN;
        stolen++;
        c.socket.write(Frames.buffer(Map.of("type", "unqueue", "job", queued.number)));
        if (--idle == 0) {
          return;
        }
      } else {
        soonest = Math.min(soonest, STEAL_AFTER_MS * 1_000_000 - age);
      }
    }
    if (soonest != Long.MAX_VALUE && stealTimer < 0 && !closed) {
      stealTimer =
          vertx.setTimer(
              Math.max(1, soonest / 1_000_000),
              id -> {
                stealTimer = -1;
                pump();
              });
    }
  }

  /**
   * The pool takes back a job the runner claimed but has not started: waiting here (requeued from a
   * lost child), or queued in a child, which is told to skip it. The child may have begun it just
   * before the word reached it: then it runs, and its reply is only logged.
   */
  @Override
  public boolean unqueue(Job job) {
    for (java.util.Iterator<Pending> it = waiting.iterator(); it.hasNext(); ) {
      if (it.next().job == job) {
        it.remove();
        return true;
      }
    }
    Child child = byJob.get(job);
    Slot slot =
        child == null
            ? null
            : child.slots.stream().filter(x -> x.job() == job).findFirst().orElse(null);
    if (slot == null || slot.started || slot.state == SlotState.DROPPED) {
      return false;
    }
    if (slot.state == SlotState.RUN && !child.killed && child.socket != null) {
      child.socket.write(Frames.buffer(Map.of("type", "unqueue", "job", slot.number)));
    }
    slot.state = SlotState.DROPPED;
    return true;
  }

  /**
   * The child will never begin a task it was asked to skip (unqueue): a stolen one goes to another
   * child, a dropped one is the pool's no more.
   */
  private void skipped(Child child, Map<String, Object> m) {
    Slot slot = slot(child, m.get("job"));
    if (slot == null || slot.started || slot.state == SlotState.RUN) {
      throw new IllegalStateException("skipped job " + m.get("job") + ", not asked to");
    }
    boolean wasHead = slot == child.head();
    child.slots.remove(slot);
    byJob.remove(slot.job());
    numbers.remove(slot.job());
    if (slot.state == SlotState.STOLEN) {
      waiting.addFirst(slot.pending);
    }
    if (wasHead) {
      promote(child);
    }
    pump();
  }

  /**
   * Asked back too late: the child had begun the task (or ended it, and its reply came first). A
   * stolen one runs here after all and starts now (time limits, events); a dropped one runs without
   * the pool, its reply only logged.
   */
  private void begun(Child child, Map<String, Object> m) {
    Slot slot = slot(child, m.get("job"));
    if (slot == null || slot.started) {
      return; // its reply came first
    }
    if (slot.state == SlotState.DROPPED) {
      return; // its reply is logged, not reported (finished)
    }
    slot.state = SlotState.RUN;
    if (slot == child.head()) {
      begin(child, slot);
    }
  }

  /** The synchronous task with this job number in the child, or null. */
  private static Slot slot(Child child, Object job) {
    long number = ChildProtocol.number(job, -1);
    for (Slot s : child.slots) {
      if (s.number == number) {
        return s;
      }
    }
    return null;
  }

  /**
   * Tasks written to a child that never started (the child died, was killed or went out of step):
   * back to the front of the queue, in order; dropped ones are the pool's no more.
   */
  private void requeueUnstarted(Child child) {
    for (java.util.Iterator<Slot> it = child.slots.descendingIterator(); it.hasNext(); ) {
      Slot slot = it.next();
      if (slot.started) {
        continue;
      }
      it.remove();
      byJob.remove(slot.job());
      numbers.remove(slot.job());
      if (slot.state != SlotState.DROPPED) {
        waiting.addFirst(slot.pending);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private void finished(Child child, Map<String, Object> m) {
    long number = ChildProtocol.number(m.get("job"), -1);
    Coroutine co = child.coroutines.get(number);
    if (co != null) {
      Runnable report =
          co.abandoned
              ? () -> {}
              : ChildProtocol.outcome(co.completion, m); // a given-up one: already reported
      child.coroutines.remove(number);
      byJob.remove(co.job);
      numbers.remove(co.job);
      child.tasksDone++;
      child.rssKib = ChildProtocol.number(m.get("rss_kib"), child.rssKib);
      report.run();
      recycleIfDue(child);
      pump();
      return;
    }
    if (number == child.lastJobNumber && child.lastJob != null) {
      log.warn(
          "Child {} replied a second time for {}: ignored (the first reply stands)",
          child.pid,
          child.lastJob);
      return;
    }
    Slot head = child.head();
    if (head == null || number != head.number) {
      // Not a job it runs: a second reply, or a number never given to it. The child is out of
      // step (a child given a job up is killed, its frames ignored): unreadable settles its task.
      throw new IllegalStateException("reply for job " + m.get("job") + ", which it does not run");
    }
    // Read the whole reply before the job is let go: a malformed one throws here, and the job is
    // still there to be failed (see unreadable).
    Runnable report =
        head.state == SlotState.DROPPED ? null : ChildProtocol.outcome(head.pending.completion, m);
    Job job = head.job();
    child.slots.pollFirst();
    child.lastJobNumber = number;
    child.lastJob = job.request().logName();
    byJob.remove(job);
    numbers.remove(job);
    child.tasksDone++;
    child.rssKib = ChildProtocol.number(m.get("rss_kib"), child.rssKib);
    promote(child);
    if (report == null) {
      log.warn(
          "Child {} ran {} although the worker had taken it back (revoked, or shutting down): it had"
              + " begun it when it was told to skip it; its outcome is not reported",
          child.pid,
          child.lastJob);
    } else {
      if (!head.started) {
        reportStart(head.pending); // asked back too late: it ran here after all
      }
      report.run();
    }
    recycleIfDue(child);
    pump();
  }

  /** A coroutine that did not yield for async_blocked_threshold: the child names its job. */
  private void blocked(Child child, Map<String, Object> m) {
    Coroutine co = child.coroutines.get(ChildProtocol.number(m.get("job"), -1));
    log.error(
        "Async task {} has blocked the asyncio loop of child {} for {}s: a coroutine must await, not block "
            + "(use a thread-pool executor for blocking calls); the child's other coroutines wait meanwhile.\n{}",
        co != null ? co.job.request().logName() : "(unknown)",
        child.pid,
        m.get("seconds"),
        m.get("stack"));
  }

  /** Celery's max_tasks_per_child / max_memory_per_child, and shrinking: retire after the task. */
  private void recycleIfDue(Child child) {
    if (child.retiring) {
      return; // it finishes the task queued in it, then exits
    }
    if (options.getMaxTasksPerChild() > 0 && child.tasksDone >= options.getMaxTasksPerChild()) {
      retire(child, "it ran " + child.tasksDone + " tasks (max_tasks_per_child)");
    } else if (options.getMaxMemoryPerChild() > 0
        && child.rssKib > options.getMaxMemoryPerChild()) {
      retire(
          child,
          "its resident memory "
              + child.rssKib
              + " KiB exceeds max_memory_per_child "
              + options.getMaxMemoryPerChild()
              + " KiB");
    } else if (children.size() > target + spares()) {
      retire(child, "the pool shrank");
    }
  }

  /** Graceful: the child finishes nothing more and exits; a replacement starts now. */
  private void retire(Child child, String why) {
    log.info("Replacing child {}: {}", child.pid, why);
    child.retiring = true;
    children.remove(child);
    if (child.socket != null) {
      child.socket.write(Frames.buffer(Map.of("type", "shutdown")));
    }
    long grace = (long) ((options.getChildKillGrace() + 10) * 1000);
    vertx.setTimer(
        grace,
        id -> {
          if (!child.exited) {
            kill(child);
          }
        });
    fill();
  }

  @Override
  public void resize(int concurrency) {
    target = concurrency;
    fill();
    for (Child c : new ArrayList<>(children)) {
      if (children.size() <= target + spares()) {
        break;
      }
      if (c.empty()) {
        retire(c, "the pool shrank");
      }
    }
  }

  @Override
  public void softLimit(Job job) {
    Child child = byJob.get(job);
    if (child != null && child.socket != null) {
      child.socket.write(Frames.buffer(Map.of("type", "soft_limit", "job", numbers.get(job))));
    }
  }

  @Override
  public void hardLimit(Job job) {
    if (cancelCoroutine(job, "TimeLimitExceeded")) {
      return;
    }
    Child child = byJob.remove(job);
    numbers.remove(job);
    if (child == null) {
      return;
    }
    log.error("Killing child {} (hard time limit of {})", child.pid, job.request().logName());
    child.killed = true;
    children.remove(child);
    child.slots.removeIf(x -> x.job() == job);
    requeueUnstarted(child); // a task queued behind it goes to another child now
    kill(child);
    fill();
    pump();
  }

  @Override
  public void terminate(Job job, String signal) {
    if (!cancelCoroutine(job, "terminated")) {
      hardLimit(job);
    }
  }

  /**
   * A coroutine given up (already reported): the child cancels that one task, its other tasks go
   * on. Its slot stays taken until the child says it ended. False when the job is no coroutine.
   */
  private boolean cancelCoroutine(Job job, String reason) {
    Child child = byJob.get(job);
    Long number = numbers.get(job);
    Coroutine co = child == null || number == null ? null : child.coroutines.get(number);
    if (co == null) {
      return false;
    }
    if (!co.abandoned) {
      co.abandoned = true;
      log.warn(
          "Cancelling coroutine of {} in child {} ({})",
          job.request().logName(),
          child.pid,
          reason);
      child.socket.write(Frames.buffer(Map.of("type", "cancel", "job", number, "reason", reason)));
    }
    return true;
  }

  /** SIGTERM, then SIGKILL after the grace period. */
  private void kill(Child child) {
    Process p = child.process;
    if (p == null || child.exited) {
      return;
    }
    p.destroy();
    vertx.setTimer(
        Math.max(1, (long) (options.getChildKillGrace() * 1000)),
        id -> {
          if (!child.exited) {
            p.destroyForcibly();
          }
        });
  }

  private void exited(Child child) {
    child.exited = true;
    int code = child.process.exitValue();
    forget(child);
    Slot head = child.head();
    boolean lost = head != null && head.started && !child.killed;
    if (lost) {
      Job lostJob = head.job();
      child.slots.pollFirst();
      byJob.remove(lostJob);
      numbers.remove(lostJob);
      String why = "Worker exited prematurely: " + humanStatus(code) + " Job: " + head.number + ".";
      log.error("Process {} {} ({})", child.pid, why, lostJob.request().logName());
      head.pending.completion.workerLost(ExceptionInfo.workerLost(why));
    }
    requeueUnstarted(child); // never begun: another child runs them
    if (!child.coroutines.isEmpty()) {
      for (Map.Entry<Long, Coroutine> e : child.coroutines.entrySet()) {
        Coroutine co = e.getValue();
        byJob.remove(co.job);
        numbers.remove(co.job);
        if (!co.abandoned) {
          String why =
              "Worker exited prematurely: " + humanStatus(code) + " Job: " + e.getKey() + ".";
          log.error("Process {} {} ({})", child.pid, why, co.job.request().logName());
          co.completion.workerLost(ExceptionInfo.workerLost(why));
        }
      }
      child.coroutines.clear();
    }
    if (!lost && !child.ready && !closed) {
      log.error("Child {} exited ({}) before it was ready", child.pid, humanStatus(code));
      if (warm != null
          && warm.tryFail("a child exited (" + humanStatus(code) + ") before it was ready")) {
        close();
        return;
      }
    }
    if (!closed) {
      if (child.ready || child.killed) {
        fill();
      } else {
        vertx.setTimer(1000, id -> fill()); // a child that cannot start: do not spin
      }
      pump();
    }
  }

  private void forget(Child child) {
    children.remove(child);
    byToken.remove(child.token);
    if (child.socket != null) {
      child.socket.close();
    }
  }

  /** As billiard's human_status: {@code signal 9 (SIGKILL)} or {@code exitcode 1}. */
  static String humanStatus(int code) {
    if (code > 128 && code < 128 + 32) {
      int sig = code - 128;
      String name =
          switch (sig) {
            case 1 -> "SIGHUP";
            case 2 -> "SIGINT";
            case 6 -> "SIGABRT";
            case 9 -> "SIGKILL";
            case 11 -> "SIGSEGV";
            case 15 -> "SIGTERM";
            default -> "SIG" + sig;
          };
      return "signal " + sig + " (" + name + ")";
    }
    return "exitcode " + code;
  }

  /** JSON for the pool's stats: the children, their pids and what they do. */
  public JsonObject stats() {
    JsonArray kids = new JsonArray();
    for (Child c : byToken.values()) {
      kids.add(
          new JsonObject()
              .put("pid", c.pid)
              .put("ready", c.ready)
              .put("busy", !c.slots.isEmpty())
              .put("queued", Math.max(0, c.slots.size() - 1))
              .put("coroutines", c.coroutines.size())
              .put("retiring", c.retiring)
              .put("tasks", c.tasksDone)
              .put("rss_kib", c.rssKib)
              .put(
                  "heartbeat_age",
                  c.ready ? (System.nanoTime() - c.lastHeartbeatNanos) / 1e9 : null));
    }
    return new JsonObject()
        .put("processes", kids)
        .put("spawned", spawned)
        .put("pipelined", pipelined)
        .put("stolen", stolen)
        .put("port", server == null ? null : server.actualPort())
        .put("last_startup_ms", lastStartupNanos / 1_000_000.0)
        .put("waiting", waiting.size())
        .put("waiting_async", waitingAsync.size());
  }

  /**
   * As billiard's pool at the end of a warm shutdown: idle children get {@code shutdown} and exit
   * by themselves (a Python child sends {@code worker_process_shutdown}); one still alive after
   * {@code child_kill_grace} is killed (by a JDK timer: the runner's timers end with its verticle).
   * Busy children (the shutdown timeout passed) and children not yet connected are SIGTERMed at
   * once.
   */
  @Override
  public void close() {
    closed = true;
    if (watchdog >= 0) {
      vertx.cancelTimer(watchdog);
    }
    long grace = Math.max(1, (long) (options.getChildKillGrace() * 1000));
    log.info("Stopping {} child process(es)", byToken.size());
    for (Child c : new ArrayList<>(byToken.values())) {
      log.debug(
          "Child {}: {}", c.pid, c.socket != null && c.ready && c.empty() ? "shutdown" : "SIGTERM");
      if (c.socket != null && c.ready && c.empty() && !c.exited && c.process != null) {
        c.socket.write(Frames.buffer(Map.of("type", "shutdown")));
        Process p = c.process;
        java.util.concurrent.CompletableFuture.runAsync(
            () -> {
              if (p.isAlive()) {
                p.destroyForcibly();
              }
            },
            java.util.concurrent.CompletableFuture.delayedExecutor(
                grace, java.util.concurrent.TimeUnit.MILLISECONDS));
      } else if (c.process != null) {
        c.process.destroy();
      }
    }
    if (server != null) {
      server.close();
    }
  }
}

package io.celerity.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.threadchecker.BlockedThreadEvent;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails any test during which Vert.x reported a blocked event-loop thread. Registered for every
 * test through JUnit's extension auto-detection.
 *
 * <p>On the strict Vert.x instances of {@link #strictVertx()} a report counts only when the loop
 * really was kept busy: the thread was waiting (a blocking call: sleep, lock, park), or it used
 * {@link #COMPUTING_LIMIT_MS} of CPU while over the limit (computing on the loop), or the task went
 * on for {@link #STARVED_LIMIT_MS}. A runnable thread that used little CPU meanwhile was waiting
 * for a core: on a loaded 2-core machine that says nothing about the code, and is only logged.
 */
public class BlockedThreadGuard implements BeforeEachCallback, AfterEachCallback {

  /** The logger Vert.x reports blocked threads on. */
  public static final String CHECKER_LOGGER = "io.vertx.core.impl.BlockedThreadChecker";

  private static final List<String> WARNINGS = new ArrayList<>();

  static {
    Logger checker = (Logger) LoggerFactory.getLogger(CHECKER_LOGGER);
    AppenderBase<ILoggingEvent> appender =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent e) {
            synchronized (WARNINGS) {
              WARNINGS.add(e.getThreadName() + ": " + e.getFormattedMessage());
            }
          }
        };
    appender.setContext(checker.getLoggerContext());
    appender.start();
    checker.addAppender(appender);
  }

  /** A task longer than this fails the test whatever the reason. */
  static final long STARVED_LIMIT_MS = 3000;

  /** CPU a task may use past the time limit before it counts as computing on the loop. */
  static final long COMPUTING_LIMIT_MS = 200;

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /**
   * Per reported thread: nanoTime, duration, CPU time at its previous report, CPU used since the
   * task's first report.
   */
  private static final Map<Thread, long[]> PREVIOUS = new ConcurrentHashMap<>();

  private static boolean warmedUp;

  /**
   * Starts and stops one in-JVM worker (memory broker) before the first strict Vert.x of a test
   * JVM: the first worker start-up (and HTTP request) loads Netty, Jackson, Vert.x Web and
   * Micrometer classes on event loops, hundreds of milliseconds on a cold JVM, which says nothing
   * about our code.
   */
  private static synchronized void warmUp() {
    if (warmedUp) {
      return;
    }
    warmedUp = true;
    // Netty's adaptive allocator registers a JFR event type with its first chunk (class init, over
    // 500 ms on a loaded machine): done here, not on the first event loop that writes to a socket.
    new io.netty.buffer.AdaptiveByteBufAllocator().directBuffer(64).release();
    Vertx v = Vertx.vertx();
    io.celerity.WorkerVerticle worker = new io.celerity.WorkerVerticle();
    try {
      io.vertx.core.json.JsonObject conf =
          new io.vertx.core.json.JsonObject()
              .put("broker", "memory://warm-up")
              .put("result_backend", "memory://")
              .put("http_port", 0)
              .put("hostname", "warm-up@localhost");
      String id =
          v.deployVerticle(worker, new io.vertx.core.DeploymentOptions().setConfig(conf))
              .toCompletionStage()
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      // one HTTP round trip: Netty registers its JFR events on the first buffer chunk, a second on
      // a loaded machine
      v.createHttpClient()
          .request(io.vertx.core.http.HttpMethod.GET, worker.httpPort(), "127.0.0.1", "/health")
          .compose(r -> r.send().compose(io.vertx.core.http.HttpClientResponse::body))
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      worker.shutdown(false).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      v.undeploy(id).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LoggerFactory.getLogger(BlockedThreadGuard.class)
          .warn("Warm-up worker failed: {}", e.toString());
    } finally {
      v.close().toCompletionStage().toCompletableFuture().join();
      drain();
    }
  }

  /**
   * Vert.x options for tests: an event-loop task over 500 ms that kept the loop busy fails the
   * test.
   */
  public static Vertx strictVertx() {
    return strictVertx(true);
  }

  /**
   * @param nativeTransport Netty's epoll transport where it loads, as the worker's default
   *     (native_transport); false: Java's NIO selector
   */
  public static Vertx strictVertx(boolean nativeTransport) {
    warmUp();
    Vertx vertx =
        Vertx.vertx(
            new VertxOptions()
                .setPreferNativeTransport(nativeTransport)
                .setMaxEventLoopExecuteTime(500)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
                .setBlockedThreadCheckInterval(100)
                .setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS));
    ((VertxInternal) vertx)
        .blockedThreadChecker()
        .setThreadBlockedHandler(BlockedThreadGuard::blocked);
    return vertx;
  }

  /** One report of the checker (every check interval while the task goes on). */
  static void blocked(BlockedThreadEvent e) {
    Thread t = e.thread();
    long now = System.nanoTime();
    long cpu = THREADS.isThreadCpuTimeSupported() ? THREADS.getThreadCpuTime(t.getId()) : -1;
    Thread.State state = t.getState();
    long[] prev = PREVIOUS.get(t);
    // the same task as the previous report: its duration grew by the time between the reports
    boolean sameTask =
        prev != null
            && Math.abs((e.duration() - prev[1]) - (now - prev[0]))
                < TimeUnit.MILLISECONDS.toNanos(50);
    long used = sameTask && cpu >= 0 ? prev[3] + (cpu - prev[2]) : 0;
    PREVIOUS.put(t, new long[] {now, e.duration(), cpu, used});
    String why = null;
    if (state == Thread.State.BLOCKED
        || state == Thread.State.WAITING
        || state == Thread.State.TIMED_WAITING) {
      why = "waiting (" + state + ")";
    } else if (used >= TimeUnit.MILLISECONDS.toNanos(COMPUTING_LIMIT_MS)) {
      why = "computing (" + used / 1_000_000 + " ms of CPU past the limit)";
    } else if (e.duration() >= TimeUnit.MILLISECONDS.toNanos(STARVED_LIMIT_MS)) {
      why = "not done after " + STARVED_LIMIT_MS + " ms";
    }
    String line =
        "Thread "
            + t.getName()
            + " has been blocked for "
            + e.duration() / 1_000_000
            + " ms, time limit is "
            + e.maxExecTime() / 1_000_000
            + " ms";
    if (why == null) {
      LoggerFactory.getLogger(BlockedThreadGuard.class)
          .info("{} (runnable, little CPU: waiting for a core, not counted)", line);
      return;
    }
    StringBuilder report = new StringBuilder(line).append(": ").append(why);
    StackTraceElement[] stack = t.getStackTrace();
    for (int i = 0; i < Math.min(8, stack.length); i++) {
      report.append("\n\tat ").append(stack[i]);
    }
    LoggerFactory.getLogger(CHECKER_LOGGER).warn(report.toString());
  }

  /** Takes the warnings collected so far. */
  public static List<String> drain() {
    synchronized (WARNINGS) {
      List<String> out = new ArrayList<>(WARNINGS);
      WARNINGS.clear();
      return out;
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    drain();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    List<String> w = drain();
    if (!w.isEmpty()) {
      throw new AssertionError(
          "Vert.x event loop blocked during "
              + context.getDisplayName()
              + ":\n"
              + String.join("\n", w));
    }
  }
}

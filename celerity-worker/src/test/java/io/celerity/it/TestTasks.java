package io.celerity.it;

import io.celerity.task.Task;
import io.celerity.task.TaskContext;
import java.util.Map;

/** Tasks only the integration tests load, with {@code app} (the CLI's {@code -A}). */
public class TestTasks {

  @Task(name = "tests.java_error")
  public static Object javaError(String message) {
    throw new IllegalStateException(message);
  }

  @Task(name = "tests.request_info")
  public static Map<String, Object> requestInfo(TaskContext ctx) {
    return Map.of(
        "id",
        ctx.id(),
        "retries",
        ctx.retries(),
        "hostname",
        ctx.hostname(),
        "root_id",
        String.valueOf(ctx.rootId()));
  }

  @Task(name = "tests.late", acksLate = true)
  public static Object late(double seconds) throws InterruptedException {
    Thread.sleep((long) (seconds * 1000));
    return "done";
  }

  private static final java.util.concurrent.ConcurrentHashMap<
          String, java.util.concurrent.atomic.AtomicInteger>
      ATTEMPTS = new java.util.concurrent.ConcurrentHashMap<>();

  /** Logs one line from its body (the log tests look for the task's id and name in the MDC). */
  @Task(name = "tests.log_line")
  public static String logLine(String text) {
    org.slf4j.LoggerFactory.getLogger("tests.task").info("body says {}", text);
    return text;
  }

  /** Retries until its retries are used up (max 2): ends in MaxRetriesExceededError. */
  @Task(name = "tests.always_retry", maxRetries = 2, defaultRetryDelay = 0.05)
  public static Object alwaysRetry(TaskContext ctx) {
    throw ctx.retry();
  }

  /** Fails twice per task id with an exception listed in autoretry_for, then succeeds. */
  @Task(
      name = "tests.flaky",
      autoretryFor = IllegalStateException.class,
      maxRetries = 5,
      defaultRetryDelay = 0.05)
  public static int flaky(TaskContext ctx) {
    int attempt =
        ATTEMPTS
            .computeIfAbsent(ctx.id(), k -> new java.util.concurrent.atomic.AtomicInteger())
            .incrementAndGet();
    if (attempt < 3) {
      throw new IllegalStateException("attempt " + attempt);
    }
    return attempt;
  }

  /** Gates the test opens by name ({@link #open}); the worker runs in the test's JVM. */
  public static final java.util.concurrent.ConcurrentHashMap<
          String, java.util.concurrent.CountDownLatch>
      GATES = new java.util.concurrent.ConcurrentHashMap<>();

  public static void open(String gate) {
    GATES.computeIfAbsent(gate, k -> new java.util.concurrent.CountDownLatch(1)).countDown();
  }

  /** Holds its slot until the test opens {@code gate} (at most 60 s). */
  @Task(name = "tests.gate")
  public static Object gate(String gate) throws InterruptedException {
    return GATES
        .computeIfAbsent(gate, k -> new java.util.concurrent.CountDownLatch(1))
        .await(60, java.util.concurrent.TimeUnit.SECONDS);
  }

  /**
   * Burns its thread until the test opens {@code gate}, ignoring interrupts like CPU-bound code (at
   * most 60 s).
   */
  @Task(name = "tests.spin")
  public static Object spin(String gate) {
    java.util.concurrent.CountDownLatch latch =
        GATES.computeIfAbsent(gate, k -> new java.util.concurrent.CountDownLatch(1));
    long end = System.nanoTime() + 60_000_000_000L;
    while (latch.getCount() > 0 && System.nanoTime() < end) {
      Thread.onSpinWait();
    }
    return "spun";
  }

  @Task(name = "tests.busy")
  public static Object busy(double seconds) {
    // ignores interrupts, like CPU-bound code
    long end = System.nanoTime() + (long) (seconds * 1e9);
    long n = 0;
    while (System.nanoTime() < end) {
      n++;
    }
    return n > 0;
  }
}

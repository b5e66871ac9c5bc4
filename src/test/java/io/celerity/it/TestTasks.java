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
    return Map.of("id", ctx.id(), "retries", ctx.retries(), "hostname", ctx.hostname(),
      "root_id", String.valueOf(ctx.rootId()));
  }

  @Task(name = "tests.late", acksLate = true)
  public static Object late(double seconds) throws InterruptedException {
    Thread.sleep((long) (seconds * 1000));
    return "done";
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

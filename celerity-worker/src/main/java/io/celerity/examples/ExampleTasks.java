package io.celerity.examples;

import io.celerity.canvas.Signature;
import io.celerity.task.Task;
import io.celerity.task.TaskContext;
import io.celerity.task.TaskError;
import io.celerity.task.TaskModule;
import io.celerity.task.TaskRegistry;
import java.util.List;
import java.util.Map;

/**
 * The example tasks every Celerity worker can load. Their names and behaviour are public interface:
 * tests, benchmarks and users' first steps depend on them.
 */
public class ExampleTasks implements TaskModule {

  @Override
  public void register(TaskRegistry registry) {
    registry.registerAnnotated(ExampleTasks.class);
  }

  @Task(name = "examples.add")
  public static Object add(Number x, Number y) {
    return Numbers.add(x, y);
  }

  @Task(name = "examples.mul")
  public static Object mul(Number x, Number y) {
    return Numbers.mul(x, y);
  }

  @Task(name = "examples.xsum")
  public static Object xsum(List<Number> numbers) {
    Object total = 0L;
    for (Number n : numbers) {
      total = Numbers.add((Number) total, n);
    }
    return total;
  }

  @Task(name = "examples.echo")
  public static Object echo(Object value) {
    return value;
  }

  @Task(name = "examples.sleep")
  public static Object sleep(Number seconds) throws InterruptedException {
    Thread.sleep(Math.round(seconds.doubleValue() * 1000));
    return seconds;
  }

  @Task(name = "examples.fail")
  public static Object fail(String message) {
    throw TaskError.valueError(message);
  }

  /**
   * Retries itself (countdown 0.1 s) until its {@code n}-th retry, then returns the retries seen.
   */
  @Task(name = "examples.retry_until")
  public static int retryUntil(int n, TaskContext ctx) {
    if (ctx.retries() < n) {
      throw ctx.retry(null, 0.1, n);
    }
    return ctx.retries();
  }

  /** Replaces itself with the signature it is given (Celery's {@code self.replace(sig)}). */
  @Task(name = "examples.replace_with")
  public static Object replaceWith(Map<String, Object> sig, TaskContext ctx) {
    throw ctx.replace(Signature.from(sig));
  }

  @Task(name = "examples.noop")
  public static Object noop() {
    return null;
  }
}

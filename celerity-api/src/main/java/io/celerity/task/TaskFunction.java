package io.celerity.task;

/**
 * A task body registered by name: {@code registry.register("proj.add", ctx -> ctx.arg(0, int.class)
 * + ctx.arg(1, int.class))}.
 */
@FunctionalInterface
public interface TaskFunction {

  /**
   * Runs the task on a pool thread.
   *
   * @return the result, serialised to JSON
   * @throws Exception reported to the caller as a FAILURE
   */
  Object run(TaskContext ctx) throws Exception;
}

package io.celerity.task;

/**
 * A registered task: its name, options and body.
 *
 * @param name registered name
 * @param options per-task options
 * @param function the body
 * @param async the body returns a future ({@code io.vertx.core.Future} or {@link
 *     java.util.concurrent.CompletionStage}) and runs on an event loop, or it is a Python {@code
 *     async def} task of the process pool's children
 */
public record TaskDefinition(
    String name, TaskOptions options, TaskFunction function, boolean async) {

  /** A task whose body returns its result (it runs on a pool thread or in a child). */
  public TaskDefinition(String name, TaskOptions options, TaskFunction function) {
    this(name, options, function, false);
  }
}

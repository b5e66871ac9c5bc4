package io.celerity.task;

/**
 * A registered task: its name, options and body.
 *
 * @param name     registered name
 * @param options  per-task options
 * @param function the body
 */
public record TaskDefinition(String name, TaskOptions options, TaskFunction function) {
}

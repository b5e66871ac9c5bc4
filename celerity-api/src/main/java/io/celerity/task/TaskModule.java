package io.celerity.task;

/**
 * A set of tasks a worker loads: named with {@code -A/--app} or listed in {@code
 * META-INF/services/io.celerity.task.TaskModule} for {@link java.util.ServiceLoader}. Classes named
 * with {@code -A} may instead just carry {@link Task}-annotated methods.
 */
public interface TaskModule {

  void register(TaskRegistry registry);
}

package io.celerity.types;

import org.slf4j.MDC;

/**
 * The task a log line is about, in the logging context (MDC) as {@code task_id} and {@code
 * task_name} (Celery's task log record fields): set on the pool thread while a body runs, and
 * around the worker's own lines about a task. The JSON log format carries them as fields.
 */
public final class TaskMdc {

  public static final String TASK_ID = "task_id";
  public static final String TASK_NAME = "task_name";

  /**
   * Ends a {@link #enter} scope: the previous values come back (a body may log about another task).
   */
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }

  private TaskMdc() {}

  public static Scope enter(String id, String name) {
    String priorId = MDC.get(TASK_ID);
    String priorName = MDC.get(TASK_NAME);
    put(TASK_ID, id);
    put(TASK_NAME, name);
    return () -> {
      put(TASK_ID, priorId);
      put(TASK_NAME, priorName);
    };
  }

  private static void put(String key, String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }
}

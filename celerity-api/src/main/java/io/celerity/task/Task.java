package io.celerity.task;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method as a Celery task, like Python's {@code @app.task(name=...)}. Positional arguments
 * map to parameters in order, keyword arguments by parameter name (compile with {@code
 * -parameters}), each converted with Jackson; a {@link TaskContext} parameter receives the running
 * request. The return value is serialised to JSON as the task's result.
 *
 * <pre>{@code
 * public class Tasks {
 *   @Task(name = "proj.add")
 *   public static int add(int x, int y) { return x + y; }
 * }
 * }</pre>
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Task {

  /** The registered task name; defaults to {@code <simple class name>.<method name>}. */
  String name() default "";

  /** Ack after the task ran instead of when it starts ({@code acks_late}). */
  boolean acksLate() default false;

  /** Store state STARTED before running ({@code track_started}). */
  boolean trackStarted() default false;

  /** Never store a SUCCESS result ({@code ignore_result}). */
  boolean ignoreResult() default false;

  /** Hard time limit in seconds ({@code time_limit}); 0 = worker default. */
  double timeLimit() default 0;

  /** Soft time limit in seconds ({@code soft_time_limit}); 0 = worker default. */
  double softTimeLimit() default 0;

  /**
   * Rate limit, Celery's form: {@code "10/s"}, {@code "100/m"}, {@code "1000/h"} ({@code
   * rate_limit}).
   */
  String rateLimit() default "";

  /**
   * Retries allowed by {@link TaskContext#retry} and autoretry ({@code max_retries}); -1 =
   * unlimited.
   */
  int maxRetries() default TaskOptions.DEFAULT_MAX_RETRIES;

  /** Countdown of a retry when none is given, seconds ({@code default_retry_delay}). */
  double defaultRetryDelay() default TaskOptions.DEFAULT_RETRY_DELAY;

  /** Exceptions that retry the task automatically ({@code autoretry_for}). */
  Class<? extends Throwable>[] autoretryFor() default {};

  /**
   * Exponential backoff factor for autoretry, seconds; 0 = use {@link #defaultRetryDelay()} ({@code
   * retry_backoff}).
   */
  double retryBackoff() default 0;

  /** Upper bound of the backoff, seconds ({@code retry_backoff_max}). */
  double retryBackoffMax() default TaskOptions.DEFAULT_RETRY_BACKOFF_MAX;

  /** Randomise the backoff countdown in {@code [0, countdown]} ({@code retry_jitter}). */
  boolean retryJitter() default true;

  /**
   * Store failures even when {@link #ignoreResult()} is set ({@code store_errors_even_if_ignored}).
   */
  boolean storeErrorsEvenIfIgnored() default false;

  /**
   * Accept object (POJO, record) arguments whose JSON carries fields their class lacks, dropping
   * those fields. By default such an argument fails the task with {@code TypeError:
   * Point.__init__() got an unexpected keyword argument 'z'}, as Python's {@code Point(**fields)}
   * does.
   */
  boolean ignoreUnknownFields() default false;
}

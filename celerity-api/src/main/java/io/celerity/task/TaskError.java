package io.celerity.task;

import java.util.Arrays;
import java.util.List;

/**
 * An exception a task raises to be seen by Python callers as a specific Python exception type:
 * {@code throw TaskError.valueError("bad input")} reaches {@code AsyncResult.get()} as {@code
 * ValueError('bad input')}.
 */
public class TaskError extends RuntimeException {

  private final String excModule;
  private final String excType;
  private final List<Object> excArgs;

  public TaskError(String excModule, String excType, Object... args) {
    super(excType + (args.length == 0 ? "" : ": " + Arrays.toString(args)));
    this.excModule = excModule;
    this.excType = excType;
    this.excArgs = java.util.Collections.unmodifiableList(Arrays.asList(args.clone()));
  }

  /** A {@code builtins.ValueError(message)}. */
  public static TaskError valueError(String message) {
    return new TaskError("builtins", "ValueError", message);
  }

  /** A {@code builtins.TypeError(message)}. */
  public static TaskError typeError(String message) {
    return new TaskError("builtins", "TypeError", message);
  }

  /** A {@code builtins.KeyError(key)}. */
  public static TaskError keyError(String key) {
    return new TaskError("builtins", "KeyError", key);
  }

  public String excModule() {
    return excModule;
  }

  public String excType() {
    return excType;
  }

  public List<Object> excArgs() {
    return excArgs;
  }

  @Override
  public String getMessage() {
    return excArgs.size() == 1 ? String.valueOf(excArgs.get(0)) : super.getMessage();
  }
}

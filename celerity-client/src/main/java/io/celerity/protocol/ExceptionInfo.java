package io.celerity.protocol;

import io.celerity.task.TaskError;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * An exception in Celery's JSON encoding: {@code {"exc_type", "exc_message": [args],
 * "exc_module"}}. Java exceptions are reported under the Python type a Python caller would expect
 * where one fits, otherwise under their Java names (Celery's client then synthesises a class of
 * that name).
 *
 * @param type {@code exc_type}
 * @param module {@code exc_module}
 * @param args {@code exc_message}, the exception's arguments
 * @param traceback free-text traceback, or null
 */
public record ExceptionInfo(String type, String module, List<Object> args, String traceback) {

  public static final String BUILTINS = "builtins";
  public static final String CELERY_EXCEPTIONS = "celery.exceptions";
  public static final String BILLIARD_EXCEPTIONS = "billiard.exceptions";

  public static ExceptionInfo of(String module, String type, Object... args) {
    return new ExceptionInfo(type, module, java.util.Arrays.asList(args), null);
  }

  public static ExceptionInfo notRegistered(String taskName) {
    return of(CELERY_EXCEPTIONS, "NotRegistered", taskName);
  }

  public static ExceptionInfo timeLimitExceeded(double seconds) {
    return of(
        BILLIARD_EXCEPTIONS,
        "TimeLimitExceeded",
        seconds == Math.rint(seconds) ? (Object) (long) seconds : seconds);
  }

  public static ExceptionInfo softTimeLimitExceeded() {
    return new ExceptionInfo("SoftTimeLimitExceeded", BILLIARD_EXCEPTIONS, List.of(), null);
  }

  public static ExceptionInfo workerLost(String message) {
    return of(BILLIARD_EXCEPTIONS, "WorkerLostError", message);
  }

  public static ExceptionInfo revoked(String reason) {
    return of(CELERY_EXCEPTIONS, "TaskRevokedError", reason);
  }

  /**
   * Maps a Java throwable raised by a task to its Celery encoding, with a Java stack trace as
   * traceback.
   */
  public static ExceptionInfo from(Throwable t) {
    String traceback = traceback(t);
    if (t instanceof TaskError te) {
      List<Object> args = new ArrayList<>(te.excArgs().size());
      for (Object a : te.excArgs()) {
        args.add(jsonableOrRepr(a));
      }
      return new ExceptionInfo(te.excType(), te.excModule(), args, traceback);
    }
    List<Object> args = t.getMessage() == null ? List.of() : List.of(t.getMessage());
    String pythonType = pythonType(t);
    if (pythonType != null) {
      return new ExceptionInfo(pythonType, BUILTINS, args, traceback);
    }
    Class<?> c = t.getClass();
    String module = c.getPackageName();
    String type =
        c.getName().substring(module.isEmpty() ? 0 : module.length() + 1).replace('$', '.');
    return new ExceptionInfo(type, module.isEmpty() ? null : module, args, traceback);
  }

  private static String pythonType(Throwable t) {
    if (t instanceof NumberFormatException || t instanceof IllegalArgumentException) {
      return "ValueError";
    }
    if (t instanceof ArithmeticException) {
      return "ZeroDivisionError".equals(t.getMessage())
              || String.valueOf(t.getMessage()).contains("by zero")
          ? "ZeroDivisionError"
          : "ArithmeticError";
    }
    if (t instanceof ClassCastException) {
      return "TypeError";
    }
    if (t instanceof IndexOutOfBoundsException) {
      return "IndexError";
    }
    if (t instanceof NoSuchElementException) {
      return "KeyError";
    }
    if (t instanceof UnsupportedOperationException) {
      return "NotImplementedError";
    }
    if (t instanceof OutOfMemoryError) {
      return "MemoryError";
    }
    return null;
  }

  /** Celery replaces exception arguments JSON cannot hold by their repr. */
  private static Object jsonableOrRepr(Object a) {
    try {
      return Json.toJsonValue(a);
    } catch (IllegalArgumentException e) {
      return String.valueOf(a);
    }
  }

  public static String traceback(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return w.toString();
  }

  /** The {@code result} field of a FAILURE/RETRY/REVOKED document. */
  public Map<String, Object> toResult() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("exc_type", type);
    m.put("exc_message", new ArrayList<>(args));
    m.put("exc_module", module);
    return m;
  }

  /** Python-style repr used in log lines and events, e.g. {@code ValueError('boom')}. */
  public String repr() {
    StringBuilder sb = new StringBuilder(type).append('(');
    for (int i = 0; i < args.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      Object a = args.get(i);
      sb.append(
          a instanceof String s
              ? "'" + s.replace("'", "\\'") + "'"
              : PyRepr.of(a)); // True, None, [..] as Python
    }
    return sb.append(')').toString();
  }
}

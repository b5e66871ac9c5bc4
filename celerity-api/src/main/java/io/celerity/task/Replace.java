package io.celerity.task;

import java.util.List;
import java.util.Map;

/**
 * Thrown by {@link TaskContext#replace}: Celery's {@code Ignore('Replaced by new task')}. The
 * worker sends the replacement (which inherits the task's id, chain, callbacks, errbacks and
 * chord/group membership), stores nothing for the replaced task and acknowledges its message. Write
 * {@code throw ctx.replace(sig)} so the compiler knows the task does not continue.
 *
 * <p>It travels from the task body to the result-reader as an encoded exception (type {@code
 * celery.exceptions.Ignore}, args {@code ["Replaced by new task", <signature dict>]}), so it
 * crosses process-pool children unchanged.
 */
public final class Replace extends TaskError {

  public static final String MESSAGE = "Replaced by new task";

  public Replace(Map<String, Object> signature) {
    super("celery.exceptions", "Ignore", MESSAGE, signature);
  }

  /**
   * The replacement signature dict carried by an encoded Replace, or null when {@code excArgs} are
   * not one.
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> signatureOf(String module, String type, List<Object> excArgs) {
    if ("celery.exceptions".equals(module)
        && "Ignore".equals(type)
        && excArgs != null
        && excArgs.size() == 2
        && MESSAGE.equals(excArgs.get(0))
        && excArgs.get(1) instanceof Map<?, ?> m) {
      return (Map<String, Object>) m;
    }
    return null;
  }
}

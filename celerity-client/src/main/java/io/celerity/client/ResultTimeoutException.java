package io.celerity.client;

/** Celery's {@code TimeoutError}: the result was not ready within the time given to {@code get}. */
public class ResultTimeoutException extends RuntimeException {

  private final String taskId;

  public ResultTimeoutException(String taskId, java.time.Duration timeout) {
    super(
        "The operation timed out: task "
            + taskId
            + " not ready within "
            + timeout.toMillis() / 1000.0
            + " s");
    this.taskId = taskId;
  }

  public String taskId() {
    return taskId;
  }
}

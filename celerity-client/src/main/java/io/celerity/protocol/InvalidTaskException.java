package io.celerity.protocol;

/**
 * A message that is not a valid task (Celery's {@code InvalidTaskError}, or a content type outside
 * the accept list). Celery rejects such a message without requeue.
 */
public class InvalidTaskException extends Exception {
  public InvalidTaskException(String message) {
    super(message);
  }

  public InvalidTaskException(String message, Throwable cause) {
    super(message, cause);
  }
}

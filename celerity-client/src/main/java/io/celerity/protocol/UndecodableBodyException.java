package io.celerity.protocol;

/**
 * A body that cannot be decoded at all (for example invalid JSON). Celery logs it as critical and
 * acks it: such a message would fail the same way on every delivery.
 */
public class UndecodableBodyException extends Exception {
  public UndecodableBodyException(String message, Throwable cause) {
    super(message, cause);
  }
}

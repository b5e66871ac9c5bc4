package io.celerity.transport;

/**
 * The broker refused to declare a queue as configured (a queue that exists with other arguments, an
 * argument the queue type does not support): retrying cannot help, so start-up fails at once with
 * the broker's reason.
 */
public class QueueDeclarationException extends RuntimeException {

  public QueueDeclarationException(String message) {
    super(message);
  }
}

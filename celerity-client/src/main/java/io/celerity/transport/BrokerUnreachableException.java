package io.celerity.transport;

/**
 * The transport gave up connecting at start-up ({@code broker_connection_max_retries} reached, or
 * {@code broker_connection_retry_on_startup} off). The message names the URL (password redacted)
 * and the last error; there is no stack trace worth printing.
 */
public class BrokerUnreachableException extends RuntimeException {

  public BrokerUnreachableException(String message) {
    super(message, null, false, false);
  }
}

package io.celerity.transport;

import java.util.List;
import java.util.Map;

/**
 * What the consumer asks of a transport.
 *
 * @param url broker URL
 * @param queues queues to declare and consume
 * @param prefetch initial prefetch count (0 = unlimited)
 * @param queueMaxPriority {@code x-max-priority} for declared queues, or null (Celery's {@code
 *     task_queue_max_priority})
 * @param reconnectMaxDelayMs upper bound of the reconnect backoff
 * @param connectionName shown in the broker's connection list
 * @param transportOptions Celery's {@code broker_transport_options} (e.g. {@code
 *     visibility_timeout}, {@code global_keyprefix} for Redis); never null
 * @param retryOnStartup retry when the broker cannot be reached at start-up ({@code
 *     broker_connection_retry_on_startup})
 * @param maxRetries start-up retries before giving up, 0 for no limit ({@code
 *     broker_connection_max_retries})
 * @param topology queue types, delayed delivery and failover (RabbitMQ); never null
 */
public record TransportOptions(
    String url,
    List<String> queues,
    int prefetch,
    Integer queueMaxPriority,
    long reconnectMaxDelayMs,
    String connectionName,
    Map<String, Object> transportOptions,
    boolean retryOnStartup,
    int maxRetries,
    QueueTopology topology) {

  /** Celery's defaults: retry on start-up, at most 100 times. */
  public static final boolean DEFAULT_RETRY_ON_STARTUP = true;

  public static final int DEFAULT_MAX_RETRIES = 100;

  public TransportOptions {
    transportOptions =
        transportOptions == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(
                new java.util.LinkedHashMap<>(transportOptions));
    topology = topology == null ? QueueTopology.DEFAULT : topology;
  }

  /** With the default topology (classic queues). */
  public TransportOptions(
      String url,
      List<String> queues,
      int prefetch,
      Integer queueMaxPriority,
      long reconnectMaxDelayMs,
      String connectionName,
      Map<String, Object> transportOptions,
      boolean retryOnStartup,
      int maxRetries) {
    this(
        url,
        queues,
        prefetch,
        queueMaxPriority,
        reconnectMaxDelayMs,
        connectionName,
        transportOptions,
        retryOnStartup,
        maxRetries,
        QueueTopology.DEFAULT);
  }

  /** With Celery's start-up retry defaults. */
  public TransportOptions(
      String url,
      List<String> queues,
      int prefetch,
      Integer queueMaxPriority,
      long reconnectMaxDelayMs,
      String connectionName,
      Map<String, Object> transportOptions) {
    this(
        url,
        queues,
        prefetch,
        queueMaxPriority,
        reconnectMaxDelayMs,
        connectionName,
        transportOptions,
        DEFAULT_RETRY_ON_STARTUP,
        DEFAULT_MAX_RETRIES);
  }

  /** Without transport options. */
  public TransportOptions(
      String url,
      List<String> queues,
      int prefetch,
      Integer queueMaxPriority,
      long reconnectMaxDelayMs,
      String connectionName) {
    this(url, queues, prefetch, queueMaxPriority, reconnectMaxDelayMs, connectionName, Map.of());
  }
}

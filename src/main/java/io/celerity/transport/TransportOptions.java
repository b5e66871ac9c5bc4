package io.celerity.transport;

import java.util.List;
import java.util.Map;

/**
 * What the consumer asks of a transport.
 *
 * @param url                broker URL
 * @param queues             queues to declare and consume
 * @param prefetch           initial prefetch count (0 = unlimited)
 * @param queueMaxPriority   {@code x-max-priority} for declared queues, or null (Celery's {@code task_queue_max_priority})
 * @param reconnectMaxDelayMs upper bound of the reconnect backoff
 * @param connectionName     shown in the broker's connection list
 * @param transportOptions   Celery's {@code broker_transport_options} (e.g. {@code visibility_timeout},
 *                           {@code global_keyprefix} for Redis); never null
 */
public record TransportOptions(String url, List<String> queues, int prefetch, Integer queueMaxPriority,
                               long reconnectMaxDelayMs, String connectionName, Map<String, Object> transportOptions) {

  public TransportOptions {
    transportOptions = transportOptions == null ? Map.of()
      : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(transportOptions));
  }

  /** Without transport options. */
  public TransportOptions(String url, List<String> queues, int prefetch, Integer queueMaxPriority,
                          long reconnectMaxDelayMs, String connectionName) {
    this(url, queues, prefetch, queueMaxPriority, reconnectMaxDelayMs, connectionName, Map.of());
  }
}

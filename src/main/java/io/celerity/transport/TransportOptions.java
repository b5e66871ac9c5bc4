package io.celerity.transport;

import java.util.List;

/**
 * What the consumer asks of a transport.
 *
 * @param url                broker URL
 * @param queues             queues to declare and consume
 * @param prefetch           initial prefetch count (0 = unlimited)
 * @param queueMaxPriority   {@code x-max-priority} for declared queues, or null (Celery's {@code task_queue_max_priority})
 * @param reconnectMaxDelayMs upper bound of the reconnect backoff
 * @param connectionName     shown in the broker's connection list
 */
public record TransportOptions(String url, List<String> queues, int prefetch, Integer queueMaxPriority,
                               long reconnectMaxDelayMs, String connectionName) {
}

package io.celerity.transport;

import java.util.Map;

/**
 * A queue bound to a fanout exchange and consumed without acks, as Celery's pidbox ({@code
 * celery.pidbox} -> {@code <node>.celery.pidbox}) and event receivers use them. On RabbitMQ it is a
 * real exchange, queue and binding; on Redis a pub/sub subscription.
 *
 * @param exchange fanout exchange, e.g. {@code celery.pidbox}
 * @param queue queue name, e.g. {@code celery@host.celery.pidbox}
 * @param routingKey binding key ({@code ""} for the pidbox)
 * @param queueArguments queue arguments, e.g. {@code x-message-ttl}, {@code x-expires}
 */
public record FanoutBinding(
    String exchange, String queue, String routingKey, Map<String, Object> queueArguments) {}

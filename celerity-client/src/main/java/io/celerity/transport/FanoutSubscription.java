package io.celerity.transport;

import io.celerity.types.Delivery;

/**
 * Asks the consumer (which owns the broker connection) to consume a fanout binding and forward
 * every delivery to an event-bus address.
 *
 * @param binding the fanout binding
 * @param address where deliveries go (as {@link Delivery} objects)
 */
public record FanoutSubscription(FanoutBinding binding, String address) {}

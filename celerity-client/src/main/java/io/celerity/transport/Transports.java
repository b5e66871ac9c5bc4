package io.celerity.transport;

import io.celerity.config.Urls;
import io.celerity.transport.amqp.AmqpTransport;
import io.celerity.transport.memory.MemoryTransport;
import io.celerity.transport.redis.RedisTransport;
import io.vertx.core.Vertx;

/** Picks the transport for a broker URL by its scheme. */
public final class Transports {

  private Transports() {}

  public static Transport create(Vertx vertx, TransportOptions options) {
    String scheme = Urls.scheme(options.url());
    if (scheme == null) {
      throw new IllegalArgumentException(
          "broker URL without a scheme: " + Urls.redact(options.url()));
    }
    return switch (scheme) {
      case "amqp", "amqps", "pyamqp" -> new AmqpTransport(vertx, options);
      case "memory" -> new MemoryTransport(vertx, options);
      case "redis", "rediss", "sentinel" -> new RedisTransport(vertx, options);
      default ->
          throw new IllegalArgumentException(
              "unsupported broker scheme '"
                  + scheme
                  + "' in "
                  + Urls.redact(options.url())
                  + " (supported: amqp://, redis://, rediss://, sentinel://, memory://)");
    };
  }
}

package io.celerity.transport.redis;

import io.celerity.protocol.Json;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kombu's {@code Channel._put} and {@code _put_fanout}: a message to a fanout exchange is a PUBLISH
 * on its channel, any other is pushed onto the list (of its priority step) of every queue bound to
 * its exchange and routing key. Publishes use the shared command connections; a failure fails the
 * publish only.
 */
final class RedisPublisher {

  private static final Logger log = LoggerFactory.getLogger(RedisTransport.class);

  private final Redis commands;
  private final RedisKeys keys;
  private final UnackedStore store;
  private final RedisFanout fanout;

  RedisPublisher(Redis commands, RedisKeys keys, UnackedStore store, RedisFanout fanout) {
    this.commands = commands;
    this.keys = keys;
    this.store = store;
    this.fanout = fanout;
  }

  Future<Void> publish(OutgoingMessage m) {
    String payload;
    try {
      payload = Json.encodeToString(RedisEnvelope.encode(m));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    String exchange = m.exchange() == null ? "" : m.exchange();
    if (fanout.isFanout(exchange)) {
      return commands
          .send(
              Request.cmd(Command.PUBLISH)
                  .arg(keys.fanoutChannel(exchange, m.routingKey()))
                  .arg(payload))
          .mapEmpty();
    }
    Object priority = m.properties() == null ? null : m.properties().get("priority");
    int step = RedisKeys.step(priority instanceof Number n ? n.intValue() : null);
    return store
        .queuesFor(exchange, m.routingKey())
        .compose(
            qs -> {
              if (qs.isEmpty()) {
                log.debug(
                    "No queue bound to exchange {} with key {}: message dropped",
                    exchange,
                    m.routingKey());
                return Future.succeededFuture();
              }
              List<Request> pushes =
                  qs.stream()
                      .map(q -> Request.cmd(Command.LPUSH).arg(keys.list(q, step)).arg(payload))
                      .toList();
              return commands.batch(pushes).mapEmpty();
            });
  }
}

package io.celerity.transport.redis;

import io.celerity.transport.ConnectionLifecycle;
import io.celerity.transport.FanoutBinding;
import io.celerity.types.Delivery;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kombu's fanout exchanges on Redis (pidbox, events): one pub/sub connection, opened on the first
 * binding, with a {@link ConnectionLifecycle} of its own, so losing it costs a resubscribe and
 * nothing else. Bindings are kept and subscribed again on every (re)connect. Event-loop confined.
 */
final class RedisFanout {

  private static final Logger log = LoggerFactory.getLogger(RedisTransport.class);

  /** Exchanges that are fanout on Redis (kombu turns celeryev from topic into fanout). */
  private static final Set<String> KNOWN_FANOUT = Set.of("celery.pidbox", "celeryev");

  private record Fanout(FanoutBinding binding, Handler<Delivery> handler) {}

  private final Redis dedicated;
  private final Redis commands;
  private final RedisKeys keys;
  private final ConnectionLifecycle lifecycle;
  private final Set<String> exchanges = new HashSet<>(KNOWN_FANOUT);
  private final Map<String, Fanout> byPattern = new LinkedHashMap<>();
  private RedisConnection subscriber;

  RedisFanout(Redis dedicated, Redis commands, RedisKeys keys, ConnectionLifecycle lifecycle) {
    this.dedicated = dedicated;
    this.commands = commands;
    this.keys = keys;
    this.lifecycle = lifecycle;
    lifecycle.onLost(gen -> dropSubscriber());
  }

  /** Exchanges published to with PUBLISH rather than list pushes. */
  boolean isFanout(String exchange) {
    return exchanges.contains(exchange);
  }

  /**
   * Binds and subscribes. While the pub/sub connection is not up the binding waits for it (so a
   * worker starting while Redis is down gets its pidbox once Redis is back); the returned future
   * waits a few seconds at most for that.
   */
  Future<Void> consume(FanoutBinding binding, Handler<Delivery> h) {
    exchanges.add(binding.exchange());
    String pattern = keys.fanoutPattern(binding.exchange(), binding.routingKey());
    byPattern.put(pattern, new Fanout(binding, h));
    if (lifecycle.state() == ConnectionLifecycle.State.DISCONNECTED) {
      lifecycle
          .start(this::subscribeAll)
          .onFailure(err -> {}); // retried for ever; the lifecycle logs
    }
    // Subscribing again is harmless, and covers a binding added while a (re)connect was under way.
    Future<Void> subscribed =
        lifecycle
            .whenConnected()
            .compose(v -> bind(List.of(binding)))
            .compose(
                v ->
                    subscriber == null
                        ? Future.succeededFuture()
                        : psubscribe(subscriber, List.of(pattern)));
    return subscribed.timeout(5, java.util.concurrent.TimeUnit.SECONDS).otherwiseEmpty();
  }

  private Future<Void> bind(List<FanoutBinding> bindings) {
    List<Request> sadds = new ArrayList<>();
    for (FanoutBinding b : bindings) {
      sadds.add(
          Request.cmd(Command.SADD)
              .arg(keys.binding(b.exchange()))
              .arg(RedisKeys.bindingMember(b.routingKey(), "", b.queue())));
    }
    return sadds.isEmpty() ? Future.succeededFuture() : commands.batch(sadds).mapEmpty();
  }

  private Future<Void> subscribeAll(long gen) {
    List<FanoutBinding> bindings = byPattern.values().stream().map(Fanout::binding).toList();
    return bind(bindings)
        .compose(v -> dedicated.connect())
        .compose(
            conn -> {
              subscriber = conn;
              conn.handler(this::onMessage);
              conn.exceptionHandler(
                  err -> lifecycle.lost(gen, "pub/sub connection: " + err.getMessage()));
              conn.endHandler(v -> lifecycle.lost(gen, "pub/sub connection closed"));
              return psubscribe(conn, List.copyOf(byPattern.keySet()))
                  .onFailure(
                      err -> {
                        subscriber = null;
                        conn.close();
                      });
            });
  }

  private void dropSubscriber() {
    RedisConnection s = subscriber;
    subscriber = null;
    if (s != null) {
      s.close();
    }
  }

  private static Future<Void> psubscribe(RedisConnection conn, List<String> patterns) {
    Request r = Request.cmd(Command.PSUBSCRIBE);
    patterns.forEach(r::arg);
    return conn.send(r).mapEmpty();
  }

  /** Generation of fanout deliveries: they are never acked, so none is needed. */
  private static final long NO_GENERATION = 0;

  private void onMessage(Response r) {
    if (r == null || r.size() < 4 || !"pmessage".equals(r.get(0).toString())) {
      return;
    }
    Fanout f = byPattern.get(r.get(1).toString());
    if (f == null) {
      return;
    }
    try {
      Map<String, Object> env = RedisEnvelope.parse(r.get(3).toString());
      f.handler().handle(RedisEnvelope.toDelivery(env, f.binding().queue(), null, NO_GENERATION));
    } catch (IllegalArgumentException e) {
      log.error(
          "Ignoring a message on {} that is not a kombu envelope: {}", r.get(2), e.getMessage());
    } catch (RuntimeException e) {
      log.error("Handling a message on {} failed: {}", r.get(2), e.toString(), e);
    }
  }

  Future<Void> close() {
    lifecycle.closing();
    dropSubscriber();
    lifecycle.closed();
    return Future.succeededFuture();
  }
}

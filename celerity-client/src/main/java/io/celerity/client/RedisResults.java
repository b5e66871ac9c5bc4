package io.celerity.client;

import io.celerity.backend.RedisBackend;
import io.celerity.backend.ResultDocuments;
import io.celerity.protocol.Json;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Results from Celery's Redis backend as Celery's client waits for them: SUBSCRIBE to {@code
 * celery-task-meta-<id>} (the worker PUBLISHes every state it stores there), then one GET for a
 * state stored before the subscription. No polling. One pub/sub connection for all waits; when it
 * is lost, it is reopened and every wait subscribes and reads again.
 */
final class RedisResults implements ResultSource {

  private static final Logger log = LoggerFactory.getLogger(RedisResults.class);
  private static final long RESUBSCRIBE_DELAY_MS = 500;

  private final Vertx vertx;
  private final RedisBackend backend;
  private final Redis pubsub;
  private final Waiters waiters = new Waiters();
  private Future<RedisConnection> subscriber;
  private boolean closed;

  RedisResults(Vertx vertx, String url, long resultExpires) {
    this.vertx = vertx;
    this.backend = new RedisBackend(vertx, url, resultExpires, null);
    this.pubsub =
        Redis.createClient(
            vertx, new RedisOptions().setConnectionString(url).setMaxWaitingHandlers(100_000));
  }

  @Override
  public Future<Void> start() {
    return backend.ping();
  }

  private static String channel(String id) {
    return ResultDocuments.KEY_PREFIX + id;
  }

  @Override
  public void await(String taskId, Promise<Map<String, Object>> ready) {
    if (waiters.add(taskId, ready)) {
      subscribeAndRead(taskId);
    }
  }

  private void subscribeAndRead(String taskId) {
    subscriber()
        .compose(c -> c.send(Request.cmd(Command.SUBSCRIBE).arg(channel(taskId))))
        .compose(v -> backend.get(taskId))
        .onSuccess(doc -> deliver(taskId, doc))
        .onFailure(
            err -> {
              if (closed
                  || err
                      instanceof
                      IllegalStateException) { // closed, or a stored value that is not Celery's
                waiters.fail(taskId, err);
                unsubscribe(taskId);
                return;
              }
              // Redis unreachable: the wait goes on (its caller's timeout bounds it), retried
              // shortly
              log.debug("Waiting for task {}: {}; retrying", taskId, err.toString());
              vertx.setTimer(
                  RESUBSCRIBE_DELAY_MS,
                  t -> {
                    if (!closed && waiters.waitsFor(taskId)) {
                      subscribeAndRead(taskId);
                    }
                  });
            });
  }

  private void deliver(String taskId, Map<String, Object> doc) {
    if (ResultSource.isReady(doc) && waiters.complete(taskId, doc)) {
      unsubscribe(taskId);
    }
  }

  @Override
  public void forget(String taskId, Promise<Map<String, Object>> ready) {
    if (waiters.remove(taskId, ready)) {
      unsubscribe(taskId);
    }
  }

  private void unsubscribe(String taskId) {
    Future<RedisConnection> s = subscriber;
    if (s != null && s.succeeded() && !waiters.waitsFor(taskId)) {
      s.result().send(Request.cmd(Command.UNSUBSCRIBE).arg(channel(taskId))).onFailure(err -> {});
    }
  }

  private Future<RedisConnection> subscriber() {
    if (subscriber == null) {
      Future<RedisConnection> f =
          pubsub
              .connect()
              .map(
                  c -> {
                    c.handler(this::onMessage);
                    c.exceptionHandler(err -> lost(c, err.toString()));
                    c.endHandler(v -> lost(c, "closed"));
                    return c;
                  });
      subscriber = f;
      f.onFailure(
          err -> {
            if (subscriber == f) {
              subscriber = null;
            }
          });
    }
    return subscriber;
  }

  private void lost(RedisConnection c, String why) {
    Future<RedisConnection> s = subscriber;
    if (closed || s == null || !s.succeeded() || s.result() != c) {
      return;
    }
    subscriber = null;
    c.close();
    log.warn(
        "Result pub/sub connection lost ({}); subscribing again for {} waiting result(s)",
        why,
        waiters.ids().size());
    vertx.setTimer(RESUBSCRIBE_DELAY_MS, id -> resubscribeAll());
  }

  private void resubscribeAll() {
    if (!closed) {
      waiters.ids().forEach(this::subscribeAndRead);
    }
  }

  @SuppressWarnings("unchecked")
  private void onMessage(Response r) {
    if (r == null || r.size() < 3 || !"message".equals(r.get(0).toString())) {
      return;
    }
    String ch = r.get(1).toString();
    if (!ch.startsWith(ResultDocuments.KEY_PREFIX)) {
      return;
    }
    String id = ch.substring(ResultDocuments.KEY_PREFIX.length());
    try {
      deliver(id, (Map<String, Object>) Json.parse(r.get(2).toBytes()));
    } catch (IOException | ClassCastException e) {
      log.error("Result of task {} is not a JSON document and was ignored: {}", id, e.getMessage());
    }
  }

  @Override
  public Future<Map<String, Object>> current(String taskId) {
    return backend.get(taskId);
  }

  @Override
  public Future<Void> setChordSize(String groupId, int size) {
    return backend.setChordSize(groupId, size);
  }

  @Override
  public Future<Void> close() {
    closed = true;
    waiters.failAll(new IllegalStateException("client closed"));
    Future<RedisConnection> s = subscriber;
    subscriber = null;
    if (s != null && s.succeeded()) {
      s.result().close();
    }
    pubsub.close();
    return backend.close();
  }
}

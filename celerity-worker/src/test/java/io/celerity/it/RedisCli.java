package io.celerity.it;

import io.celerity.transport.redis.RedisKeys;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Blocking Redis access for test assertions and clean-up (called from the test thread only). */
public final class RedisCli implements AutoCloseable {

  private final Vertx vertx = Vertx.vertx();
  private final Redis redis;

  public RedisCli(String url) {
    redis = Redis.createClient(vertx, url);
  }

  public Response send(String command, Object... args) throws Exception {
    Request r = Request.cmd(Command.create(command));
    for (Object a : args) {
      r.arg(a.toString());
    }
    return redis.send(r).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  public long count(String command, String key) throws Exception {
    Response r = send(command, key);
    return r == null ? 0 : r.toLong();
  }

  /** Messages waiting in a queue, over all priority lists. */
  public long waiting(String queue) throws Exception {
    long n = 0;
    for (String key : new RedisKeys("", 0).brpopKeys(List.of(queue))) {
      n += count("LLEN", key);
    }
    return n;
  }

  /** Entries of the {@code unacked} hash whose message was routed to {@code queue}. */
  public long unackedFor(String queue) throws Exception {
    Response values = send("HVALS", "unacked");
    long n = 0;
    if (values != null) {
      for (Response v : values) {
        if (v.toString()
            .matches("(?s).*\"\\s*,\\s*\"" + java.util.regex.Pattern.quote(queue) + "\"\\]$")) {
          n++;
        }
      }
    }
    return n;
  }

  /** Removes a queue's lists and binding. */
  public void deleteQueue(String queue) throws Exception {
    for (String key : new RedisKeys("", 0).brpopKeys(List.of(queue))) {
      send("DEL", key);
    }
    send("DEL", "_kombu.binding." + queue);
  }

  @Override
  public void close() throws Exception {
    redis.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}

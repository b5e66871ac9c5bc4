package io.celerity.client;

import io.celerity.config.Urls;
import io.celerity.protocol.Json;
import io.celerity.transport.FanoutBinding;
import io.celerity.transport.Transport;
import io.celerity.types.Delivery;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Celery's {@code rpc://} results: one reply queue per client, named by the client's oid (the
 * {@code reply_to} of every task it sends), non-durable, auto-delete, expiring after {@code
 * result_expires} unused, consumed without acks. Workers send every state change there with {@code
 * correlation_id} = the task id. States are messages, not stored: the client keeps the latest of
 * each task (bounded, as Celery's buffer of out-of-band results is), so a {@code get} after the
 * result arrived still finds it.
 */
final class RpcResults implements ResultSource {

  private static final Logger log = LoggerFactory.getLogger(RpcResults.class);

  /** Celery's MESSAGE_BUFFER_MAX. */
  static final int KEPT_STATES = 8192;

  private final Transport transport;
  private final boolean amqp;
  private final String oid;
  private final long expiresMs;
  private final Waiters waiters = new Waiters();
  private final Map<String, Map<String, Object>> latest =
      new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Map<String, Object>> eldest) {
          return size() > KEPT_STATES;
        }
      };

  RpcResults(Transport transport, String brokerUrl, String oid, long resultExpiresSeconds) {
    this.transport = transport;
    String scheme = Urls.scheme(brokerUrl);
    this.amqp = "amqp".equals(scheme) || "amqps".equals(scheme) || "pyamqp".equals(scheme);
    this.oid = oid;
    this.expiresMs = resultExpiresSeconds * 1000;
  }

  /**
   * RabbitMQ: the queue on the default exchange, consumed without acks. Redis (kombu's virtual
   * transport): a list of that name, popped like a task queue; deliveries come through the
   * transport's handler ({@link #onReply}).
   */
  @Override
  public Future<Void> start() {
    if (amqp) {
      Map<String, Object> args = expiresMs > 0 ? Map.of("x-expires", expiresMs) : Map.of();
      return transport.consumeFanout(new FanoutBinding("", oid, oid, args), this::onReply);
    }
    return transport.addQueue(oid);
  }

  /** A reply: {@code {"task_id", "status", "result", "traceback", "children"}}. */
  @SuppressWarnings("unchecked")
  void onReply(Delivery d) {
    if (!amqp) {
      transport.ack(d); // popped from the Redis list like a task message
    }
    Map<String, Object> doc;
    try {
      doc = (Map<String, Object>) Json.parse(d.body());
    } catch (IOException | ClassCastException e) {
      log.error("Ignoring a reply on {} that is not a result document: {}", oid, e.getMessage());
      return;
    }
    Object id = d.correlationId() != null ? d.correlationId() : doc.get("task_id");
    if (id == null) {
      return;
    }
    latest.put(id.toString(), doc);
    if (ResultSource.isReady(doc)) {
      waiters.complete(id.toString(), doc);
    }
  }

  @Override
  public void await(String taskId, Promise<Map<String, Object>> ready) {
    Map<String, Object> doc = latest.get(taskId);
    if (ResultSource.isReady(doc)) {
      ready.tryComplete(doc);
    } else {
      waiters.add(taskId, ready);
    }
  }

  @Override
  public void forget(String taskId, Promise<Map<String, Object>> ready) {
    waiters.remove(taskId, ready);
  }

  @Override
  public Future<Map<String, Object>> current(String taskId) {
    return Future.succeededFuture(latest.get(taskId));
  }

  @Override
  public Future<Void> setChordSize(String groupId, int size) {
    return Future.failedFuture(
        new UnsupportedOperationException("The \"rpc\" result backend does not support chords!"));
  }

  @Override
  public Future<Void> close() {
    waiters.failAll(new IllegalStateException("client closed"));
    return Future.succeededFuture();
  }
}

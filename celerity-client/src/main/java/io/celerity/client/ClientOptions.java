package io.celerity.client;

import io.vertx.core.Vertx;
import java.util.Map;

/**
 * How a {@link CelerityClient} connects, by Celery's setting names where there is one.
 *
 * @param broker {@code broker_url}: {@code amqp://...} or {@code redis://...} (kombu's format)
 * @param resultBackend {@code result_backend}: {@code redis://...}, {@code rpc://}, or null/{@code
 *     disabled} for none
 * @param defaultQueue {@code task_default_queue}, where tasks go unless an option names a queue
 * @param resultExpires {@code result_expires} in seconds: chord counters' TTL, the rpc:// queue's
 *     {@code x-expires}
 * @param queueMaxPriority {@code task_queue_max_priority}: {@code x-max-priority} of the queues the
 *     client declares (must match the worker's, or RabbitMQ refuses the declaration), or null
 * @param transportOptions {@code broker_transport_options} (e.g. {@code global_keyprefix} on Redis)
 * @param vertx a Vert.x instance to run on (a Vert.x application's own), or null: the client
 *     creates one and closes it with itself
 */
public record ClientOptions(
    String broker,
    String resultBackend,
    String defaultQueue,
    long resultExpires,
    Integer queueMaxPriority,
    Map<String, Object> transportOptions,
    Vertx vertx) {

  public static final String DEFAULT_QUEUE = "celery";
  public static final long DEFAULT_RESULT_EXPIRES = 86_400;

  public ClientOptions {
    if (broker == null || broker.isBlank()) {
      throw new IllegalArgumentException("a broker URL is required (amqp://... or redis://...)");
    }
    defaultQueue = defaultQueue == null ? DEFAULT_QUEUE : defaultQueue;
    transportOptions = transportOptions == null ? Map.of() : Map.copyOf(transportOptions);
  }

  /** Celery's defaults for everything but the broker and the result backend. */
  public static ClientOptions of(String broker, String resultBackend) {
    return new ClientOptions(
        broker, resultBackend, DEFAULT_QUEUE, DEFAULT_RESULT_EXPIRES, null, Map.of(), null);
  }

  public ClientOptions withDefaultQueue(String queue) {
    return new ClientOptions(
        broker, resultBackend, queue, resultExpires, queueMaxPriority, transportOptions, vertx);
  }

  public ClientOptions withQueueMaxPriority(Integer max) {
    return new ClientOptions(
        broker, resultBackend, defaultQueue, resultExpires, max, transportOptions, vertx);
  }

  public ClientOptions withVertx(Vertx v) {
    return new ClientOptions(
        broker, resultBackend, defaultQueue, resultExpires, queueMaxPriority, transportOptions, v);
  }

  public ClientOptions withTransportOptions(Map<String, Object> options) {
    return new ClientOptions(
        broker, resultBackend, defaultQueue, resultExpires, queueMaxPriority, options, vertx);
  }
}

package io.celerity.types;

import java.util.Map;

/**
 * A message to publish: task messages (retries, callbacks), events, control replies, RPC results.
 *
 * @param exchange target exchange, {@code ""} for the default exchange
 * @param routingKey routing key
 * @param body encoded body
 * @param contentType {@code content_type}
 * @param contentEncoding {@code content_encoding}
 * @param headers application headers (String, Number, Boolean, List, Map or null values only)
 * @param properties other properties by their Celery names: correlation_id, reply_to, priority,
 *     delivery_mode, expiration; and {@link #DECLARE_EXCHANGE}, which is not sent
 */
public record OutgoingMessage(
    String exchange,
    String routingKey,
    byte[] body,
    String contentType,
    String contentEncoding,
    Map<String, Object> headers,
    Map<String, Object> properties) {

  public static final String JSON = "application/json";

  /**
   * Property naming the type of {@code exchange} to declare (not durable) before publishing, as
   * kombu's {@code declare=[exchange]} does for pidbox replies: a publish to a missing exchange
   * would fail. Transports without exchanges ignore it.
   */
  public static final String DECLARE_EXCHANGE = "declare_exchange";

  public static OutgoingMessage json(
      String exchange,
      String routingKey,
      byte[] body,
      Map<String, Object> headers,
      Map<String, Object> properties) {
    return new OutgoingMessage(exchange, routingKey, body, JSON, "utf-8", headers, properties);
  }
}

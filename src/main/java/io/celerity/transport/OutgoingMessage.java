package io.celerity.transport;

import java.util.Map;

/**
 * A message to publish: task messages (retries, callbacks), events, control replies, RPC results.
 *
 * @param exchange        target exchange, {@code ""} for the default exchange
 * @param routingKey      routing key
 * @param body            encoded body
 * @param contentType     {@code content_type}
 * @param contentEncoding {@code content_encoding}
 * @param headers         application headers (String, Number, Boolean, List, Map or null values only)
 * @param properties      other properties by their Celery names: correlation_id, reply_to, priority,
 *                        delivery_mode, expiration
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

  public static OutgoingMessage json(String exchange, String routingKey, byte[] body, Map<String, Object> headers,
                                     Map<String, Object> properties) {
    return new OutgoingMessage(exchange, routingKey, body, JSON, "utf-8", headers, properties);
  }
}

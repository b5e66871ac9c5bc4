package io.celerity.types;

import java.util.Map;

/**
 * One message as the broker handed it to us, before any decoding. The {@code generation} names the
 * broker connection it arrived on: an ack for a message of a previous connection is meaningless
 * (the broker has already requeued it) and is dropped instead of failing the new channel.
 *
 * @param body raw body bytes
 * @param contentType {@code content_type} property
 * @param contentEncoding {@code content_encoding} property
 * @param headers application headers, values as plain Java types (String, Number, Boolean, List,
 *     Map)
 * @param correlationId {@code correlation_id} property
 * @param replyTo {@code reply_to} property
 * @param priority {@code priority} property, or null
 * @param exchange exchange it was published to
 * @param routingKey routing key it was published with
 * @param queue queue we consumed it from
 * @param redelivered broker's redelivered flag
 * @param deliveryTag transport-specific tag used to ack
 * @param generation connection generation the tag belongs to
 */
public record Delivery(
    byte[] body,
    String contentType,
    String contentEncoding,
    Map<String, Object> headers,
    String correlationId,
    String replyTo,
    Integer priority,
    String exchange,
    String routingKey,
    String queue,
    boolean redelivered,
    Object deliveryTag,
    long generation) {

  /** The same delivery with other headers. */
  public Delivery withHeaders(Map<String, Object> newHeaders) {
    return new Delivery(
        body,
        contentType,
        contentEncoding,
        newHeaders,
        correlationId,
        replyTo,
        priority,
        exchange,
        routingKey,
        queue,
        redelivered,
        deliveryTag,
        generation);
  }

  /** The same delivery with another body. */
  public Delivery withBody(byte[] newBody) {
    return new Delivery(
        newBody,
        contentType,
        contentEncoding,
        headers,
        correlationId,
        replyTo,
        priority,
        exchange,
        routingKey,
        queue,
        redelivered,
        deliveryTag,
        generation);
  }

  /** The same message delivered under another tag, on the connection of {@code newGeneration}. */
  public Delivery withTag(Object newTag, long newGeneration) {
    return new Delivery(
        body,
        contentType,
        contentEncoding,
        headers,
        correlationId,
        replyTo,
        priority,
        exchange,
        routingKey,
        queue,
        redelivered,
        newTag,
        newGeneration);
  }
}

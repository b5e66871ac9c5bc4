package io.celerity.it;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.util.HashMap;
import java.util.Map;

/**
 * A raw RabbitMQ client for tests: publish what no well-behaved client would, and look at queues.
 */
public final class Amqp implements AutoCloseable {

  private final Connection connection;
  private final Channel channel;

  public Amqp() throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setUri(Brokers.AMQP_URL);
    connection = f.newConnection("celerity-tests");
    channel = connection.createChannel();
  }

  /** The protocol v2 headers a Celery client gives task {@code task} (mutable, to spoil them). */
  public static Map<String, Object> taskHeaders(String task, String id) {
    Map<String, Object> h = new HashMap<>();
    h.put("lang", "py");
    h.put("task", task);
    h.put("id", id);
    h.put("root_id", id);
    h.put("retries", 0);
    return h;
  }

  /**
   * Publishes to {@code exchange} with {@code routingKey}, as a producer of another Celery version
   * would.
   */
  public void publishTo(
      String exchange,
      String routingKey,
      String contentType,
      Map<String, Object> headers,
      byte[] body)
      throws Exception {
    channel.basicPublish(
        exchange,
        routingKey,
        new AMQP.BasicProperties.Builder()
            .contentType(contentType)
            .contentEncoding("utf-8")
            .headers(headers)
            .deliveryMode(2)
            .build(),
        body);
  }

  public void publish(String queue, String contentType, Map<String, Object> headers, byte[] body)
      throws Exception {
    channel.basicPublish(
        "",
        queue,
        new AMQP.BasicProperties.Builder()
            .contentType(contentType)
            .contentEncoding("utf-8")
            .headers(headers)
            .deliveryMode(2)
            .build(),
        body);
  }

  /** Publishes with these properties, as they are (a test's own, malformed ones included). */
  public void publish(String queue, AMQP.BasicProperties properties, byte[] body) throws Exception {
    channel.basicPublish("", queue, properties, body);
  }

  /** Messages ready in the queue (not counting unacked ones). */
  public long ready(String queue) throws Exception {
    return channel.queueDeclarePassive(queue).getMessageCount();
  }

  /** The broker's view of {@code queue}, for failure messages: ready messages and consumers. */
  public static String describe(String queue) {
    try (Amqp amqp = new Amqp()) {
      com.rabbitmq.client.AMQP.Queue.DeclareOk ok = amqp.channel.queueDeclarePassive(queue);
      return "broker: "
          + ok.getMessageCount()
          + " ready, "
          + ok.getConsumerCount()
          + " consumer(s)";
    } catch (Exception e) {
      return "broker: queue not readable (" + e.getMessage() + ")";
    }
  }

  /**
   * Declares a durable queue with these arguments (a fresh channel: a refused declare closes it).
   */
  public void declare(String queue, Map<String, Object> arguments) throws Exception {
    try (Channel ch = connection.createChannel()) {
      ch.queueDeclare(queue, true, false, false, arguments);
    }
  }

  /** Takes the next message of {@code queue} (auto-acked), or null when it is empty. */
  public com.rabbitmq.client.GetResponse get(String queue) throws Exception {
    return channel.basicGet(queue, true);
  }

  public void delete(String queue) {
    try {
      channel.queueDelete(queue);
      channel.exchangeDelete(queue);
    } catch (Exception ignored) {
      // best effort cleanup
    }
  }

  @Override
  public void close() throws Exception {
    connection.close();
  }
}

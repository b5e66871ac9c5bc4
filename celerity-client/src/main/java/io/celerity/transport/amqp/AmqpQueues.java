package io.celerity.transport.amqp;

import io.celerity.transport.QueueTopology;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * RabbitMQ queue declarations as Celery 5.5 and kombu make them, without a broker: the arguments of
 * a task queue, what a refused declaration says about the queue that exists, and the native delayed
 * delivery topology (kombu's {@code kombu/transport/native_delayed_delivery.py}).
 *
 * <p>Native delayed delivery: 28 topic exchanges and queues {@code celery_delayed_27 ..
 * celery_delayed_0}; queue {@code celery_delayed_N} has a message TTL of 2^N s and dead-letters
 * into level N-1 (level 0 into the topic exchange {@code celery_delayed_delivery}). A message is
 * published to {@code celery_delayed_27} with a routing key of its delay in seconds as 28 binary
 * digits, one word each, then the task's routing key: {@code 0.0. ... .1.0.1.celery}. At level N it
 * enters the queue (and waits 2^N s) if digit N is 1, or passes on to level N-1 if it is 0. After
 * level 0 the delivery exchange routes it with {@code #.<routing key>} back to the task queue.
 */
public final class AmqpQueues {

  public static final int LEVELS = 28;
  public static final String DELIVERY_EXCHANGE = "celery_delayed_delivery";

  /** The longest delay the topology can express, in seconds (2^28 - 1, about 8.5 years). */
  public static final long MAX_DELAY_SECONDS = (1L << LEVELS) - 1;

  private static final Pattern INEQUIVALENT =
      Pattern.compile(
          "inequivalent arg '([^']+)' for queue '([^']*)'.*?: received (none|the value '([^']*)'[^:]*?) but current is (none|the value '([^']*)')");

  private AmqpQueues() {}

  /**
   * Arguments of a task queue of {@code type}: {@code x-queue-type} for quorum, {@code
   * x-max-priority} for classic only.
   */
  public static Map<String, Object> taskQueueArguments(
      String type, Integer maxPriority, Map<String, Object> extra) {
    Map<String, Object> args = new LinkedHashMap<>(extra);
    args.remove("x-queue-type");
    if (QueueTopology.QUORUM.equals(type)) {
      args.put("x-queue-type", QueueTopology.QUORUM);
      args.remove(
          "x-max-priority"); // quorum queues have no priorities (RabbitMQ 3.x refuses the argument)
    } else if (maxPriority != null) {
      args.put("x-max-priority", maxPriority);
    }
    return args;
  }

  /**
   * What a {@code PRECONDITION_FAILED - inequivalent arg ...} reply says about the existing queue.
   *
   * @param argument the argument that differs
   * @param current its value on the existing queue, null when it has none
   */
  public record Mismatch(String argument, String current) {
    /** The existing queue's type, when the mismatch is about the type. */
    public String queueType() {
      return current == null ? QueueTopology.CLASSIC : current;
    }
  }

  /** The mismatch in a refused declaration's reply text, or null if it is not one. */
  public static Mismatch mismatch(String replyText) {
    if (replyText == null) {
      return null;
    }
    Matcher m = INEQUIVALENT.matcher(replyText);
    if (!m.find()) {
      return null;
    }
    return new Mismatch(m.group(1), "none".equals(m.group(5)) ? null : m.group(6));
  }

  /** kombu's {@code level_name}. */
  public static String levelName(int level) {
    return "celery_delayed_" + level;
  }

  /** kombu's {@code calculate_routing_key}: the delay as 28 binary words, then the routing key. */
  public static String delayedRoutingKey(long seconds, String routingKey) {
    if (seconds < 1 || seconds > MAX_DELAY_SECONDS) {
      throw new IllegalArgumentException(
          "delay must be 1.." + MAX_DELAY_SECONDS + " s, not " + seconds);
    }
    StringBuilder b = new StringBuilder(LEVELS * 2 + routingKey.length());
    for (int bit = LEVELS - 1; bit >= 0; bit--) {
      b.append((seconds >> bit) & 1).append('.');
    }
    return b.append(routingKey).toString();
  }

  /** One step of declaring a task queue or the delayed delivery topology (all durable). */
  public sealed interface Step
      permits ExchangeDeclare, QueueDeclare, QueueDeclarePassive, QueueBind, ExchangeBind {}

  public record ExchangeDeclare(String name, String type) implements Step {
    /** A topic exchange, as the delayed delivery topology's. */
    public ExchangeDeclare(String name) {
      this(name, "topic");
    }
  }

  public record QueueDeclare(String name, Map<String, Object> arguments) implements Step {}

  /** Checks that the queue exists, whatever its arguments. */
  public record QueueDeclarePassive(String name) implements Step {}

  public record QueueBind(String queue, String exchange, String routingKey) implements Step {}

  /** Binds {@code destination} to {@code source} (exchange to exchange). */
  public record ExchangeBind(String destination, String source, String routingKey)
      implements Step {}

  /**
   * Celery's task queue: a durable direct exchange named like the queue, the queue, and the queue
   * bound to the exchange with its name.
   */
  public static List<Step> taskQueue(String queue, Map<String, Object> arguments) {
    return List.of(
        new ExchangeDeclare(queue, "direct"),
        new QueueDeclare(queue, arguments),
        new QueueBind(queue, queue, queue));
  }

  /**
   * A task queue that exists with other arguments: used as it is, its exchange and binding made.
   */
  public static List<Step> existingTaskQueue(String queue) {
    return List.of(
        new QueueDeclarePassive(queue),
        new ExchangeDeclare(queue, "direct"),
        new QueueBind(queue, queue, queue));
  }

  /**
   * kombu's {@code declare_native_delayed_delivery_exchanges_and_queues}, step by step, in its
   * order.
   */
  public static List<Step> delayedDeliveryTopology(String queueType) {
    List<Step> steps = new ArrayList<>();
    String key = "1.#";
    for (int level = LEVELS - 1; level >= 0; level--) {
      Map<String, Object> args = new LinkedHashMap<>();
      args.put("x-queue-type", queueType);
      args.put("x-overflow", "reject-publish");
      args.put("x-message-ttl", (1L << level) * 1000);
      args.put("x-dead-letter-exchange", level > 0 ? levelName(level - 1) : DELIVERY_EXCHANGE);
      if (QueueTopology.QUORUM.equals(queueType)) {
        args.put("x-dead-letter-strategy", "at-least-once");
      }
      steps.add(new ExchangeDeclare(levelName(level)));
      steps.add(new QueueDeclare(levelName(level), args));
      steps.add(new QueueBind(levelName(level), levelName(level), key));
      key = "*." + key;
    }
    key = "0.#";
    for (int level = LEVELS - 1; level > 0; level--) {
      steps.add(new ExchangeBind(levelName(level - 1), levelName(level), key));
      key = "*." + key;
    }
    steps.add(new ExchangeDeclare(DELIVERY_EXCHANGE));
    steps.add(new ExchangeBind(DELIVERY_EXCHANGE, levelName(0), key));
    return steps;
  }

  /**
   * The binding that brings delayed messages back to a task queue: the queue itself is bound to
   * {@code celery_delayed_delivery} with {@code #.<routing key>}. kombu binds the queue's exchange
   * there instead, which works for topic exchanges only (Celery 5.5 warns and leaves direct ones,
   * its default, without delayed delivery); a queue binding works for both and RabbitMQ routes a
   * message at most once to a queue, so the two bindings side by side deliver it once.
   */
  public static QueueBind returnBinding(String queue, String routingKey) {
    return new QueueBind(
        queue, DELIVERY_EXCHANGE, routingKey.startsWith("#") ? routingKey : "#." + routingKey);
  }
}

package io.celerity.transport;

import java.util.Locale;
import java.util.Map;

/**
 * How task queues are declared on a broker that has queue types (RabbitMQ), and where countdown/ETA
 * messages wait. Celery 5.5's settings, plus the queue arguments kombu's {@code
 * Queue(queue_arguments=...)} gives.
 *
 * @param queueType {@code task_default_queue_type}: {@code classic} or {@code quorum}
 * @param detectQuorum {@code worker_detect_quorum_queues}: an existing queue of the other type is
 *     consumed as it is instead of failing the declaration
 * @param queueArguments extra {@code x-} arguments of every declared task queue (e.g. {@code
 *     x-delivery-limit}, {@code x-dead-letter-exchange}); never null
 * @param delayedDelivery {@code auto} (ETA messages of quorum queues wait in the broker, as Celery
 *     5.5), {@code always} (of every queue) or {@code off} (held unacked in the worker)
 * @param delayedQueueType {@code broker_native_delayed_delivery_queue_type} of the delay queues
 * @param failoverStrategy {@code broker_failover_strategy}: {@code round-robin} or {@code shuffle}
 */
public record QueueTopology(
    String queueType,
    boolean detectQuorum,
    Map<String, Object> queueArguments,
    String delayedDelivery,
    String delayedQueueType,
    String failoverStrategy) {

  public static final String CLASSIC = "classic";
  public static final String QUORUM = "quorum";
  public static final QueueTopology DEFAULT =
      new QueueTopology(CLASSIC, true, Map.of(), "auto", QUORUM, "round-robin");

  public QueueTopology {
    queueType = oneOf("task_default_queue_type", queueType, CLASSIC, CLASSIC, QUORUM);
    delayedDelivery =
        oneOf("native_delayed_delivery", delayedDelivery, "auto", "auto", "always", "off");
    delayedQueueType =
        oneOf("native_delayed_delivery_queue_type", delayedQueueType, QUORUM, CLASSIC, QUORUM);
    failoverStrategy =
        oneOf(
            "broker_failover_strategy", failoverStrategy, "round-robin", "round-robin", "shuffle");
    queueArguments =
        queueArguments == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(queueArguments));
  }

  private static String oneOf(String setting, String value, String dflt, String... allowed) {
    if (value == null || value.isBlank()) {
      return dflt;
    }
    String v = value.trim().toLowerCase(Locale.ROOT);
    for (String a : allowed) {
      if (a.equals(v)) {
        return a;
      }
    }
    throw new IllegalArgumentException(
        setting + " must be one of " + String.join(", ", allowed) + ", not '" + value + "'");
  }

  /** Whether ETA messages of a queue of {@code type} wait in the broker's delay queues. */
  public boolean delaysInBroker(String type) {
    return "always".equals(delayedDelivery)
        || ("auto".equals(delayedDelivery) && QUORUM.equals(type));
  }
}

package io.celerity.transport.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;
import io.celerity.transport.LoopMailbox;
import io.celerity.transport.QueueDeclarationException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The connection task messages arrive on, on the RabbitMQ Java client directly (Celery, too,
 * consumes on a connection of its own, apart from the one it publishes on).
 *
 * <p>Why not the Vert.x RabbitMQ client here: it hands every delivery from the connection's reader
 * thread to a consumer thread and then to the event loop, and sends every ack from a worker-pool
 * thread; on a 2-core machine those hand-offs cost more than the task. Here deliveries are handed
 * to the event loop straight from the reader thread, many per event-loop task under load, and acks
 * are written on the event loop: they are a few bytes into the socket buffer, and since this
 * connection never publishes, RabbitMQ's flow control (which stops reading from publishers) never
 * holds it. Blocking RPCs (qos, consume, cancel, get, close) run off the event loop, in order.
 */
final class ConsumerConnection {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(AmqpTransport.class);

  /**
   * A delivery, still on the reader thread; {@code queue} as consumed. Returns what then runs on
   * the event loop: the frame's conversion (headers table to Java values) happens here, off the
   * loop, where the reader thread has time to spare.
   */
  interface Deliveries {
    Runnable delivered(
        String queue, Envelope envelope, AMQP.BasicProperties properties, byte[] body);
  }

  private record Arrival(
      String queue, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {}

  private final Context context;
  private final Connection connection;
  private final Channel channel;
  private final LoopMailbox inbox;
  private volatile boolean closing;

  private ConsumerConnection(Context context, Connection connection, Channel channel) {
    this.context = context;
    this.connection = connection;
    this.channel = channel;
    this.inbox = new LoopMailbox(context);
  }

  /**
   * Opens the connection and its channel. {@code lost} runs on {@code context} when the connection
   * or channel goes away without {@link #close()}, with the reason.
   */
  static Future<ConsumerConnection> open(
      Context context, AmqpUrl url, String name, Handler<String> lost) {
    return context.executeBlocking(
        () -> {
          ConnectionFactory f = new ConnectionFactory();
          f.setHost(url.host());
          f.setPort(url.port());
          f.setUsername(url.user());
          f.setPassword(url.password());
          f.setVirtualHost(url.vhost());
          f.setConnectionTimeout(10_000);
          f.setRequestedHeartbeat(60);
          f.setAutomaticRecoveryEnabled(false); // ours: AmqpTransport reconnects, with generations
          f.setTopologyRecoveryEnabled(false);
          // Consumer callbacks run on the reader thread itself: they only queue the delivery for
          // the loop.
          f.setSharedExecutor(new InlineExecutor());
          if (url.ssl()) {
            f.useSslProtocol(io.celerity.transport.Tls.context());
            f.enableHostnameVerification();
          }
          Connection c = f.newConnection(name);
          try {
            Channel ch = c.createChannel();
            ConsumerConnection cc = new ConsumerConnection(context, c, ch);
            c.addShutdownListener(
                cause -> {
                  if (!cc.closing) {
                    context.runOnContext(v -> lost.handle(reason(cause)));
                  }
                });
            return cc;
          } catch (IOException | RuntimeException e) {
            c.abort();
            throw e;
          }
        },
        false);
  }

  private static String reason(ShutdownSignalException cause) {
    Object r = cause.getReason();
    return r instanceof com.rabbitmq.client.Method m
        ? m.protocolMethodName() + " " + cause.getMessage()
        : cause.getMessage();
  }

  boolean isOpen() {
    return channel.isOpen() && connection.isOpen();
  }

  /**
   * The prefetch window: shared by every consumer of the channel ({@code global}, Celery's classic
   * QoS), or per consumer, for consumers started after it (quorum queues refuse global QoS).
   */
  Future<Void> qos(int prefetch, boolean global) {
    return blocking(
        () -> {
          channel.basicQos(0, prefetch, global);
          return null;
        });
  }

  /**
   * Declares a task queue (Celery's: a durable direct exchange named like the queue, the queue
   * bound with its name) and returns its type. A queue that exists with another type is, with
   * {@code detect}, declared again with that type (Celery's quorum detection); one that differs in
   * another argument is used as it is, with a warning. Each declaration gets a channel of its own,
   * since a refused one closes its channel.
   */
  Future<String> declareTaskQueue(
      String queue, String type, Integer maxPriority, Map<String, Object> extra, boolean detect) {
    return blocking(
        () -> {
          String t = type;
          for (int attempt = 0; ; attempt++) {
            Map<String, Object> args = AmqpQueues.taskQueueArguments(t, maxPriority, extra);
            String refused =
                onOwnChannel(
                    ch -> {
                      ch.exchangeDeclare(queue, "direct", true);
                      ch.queueDeclare(queue, true, false, false, AmqpValues.toTable(args));
                      ch.queueBind(queue, queue, queue);
                    });
            if (refused == null) {
              return t;
            }
            AmqpQueues.Mismatch m = AmqpQueues.mismatch(refused);
            if (m == null || !detect || attempt >= 2) {
              throw new QueueDeclarationException(
                  "declaring queue '"
                      + queue
                      + "' failed: "
                      + refused
                      + (m != null && !detect ? " (worker_detect_quorum_queues is off)" : ""));
            }
            if ("x-queue-type".equals(m.argument())) {
              log.warn(
                  "Queue '{}' exists as a {} queue; consuming it as one (configured: {})",
                  queue,
                  m.queueType(),
                  t);
              t = m.queueType();
              continue;
            }
            log.warn(
                "Queue '{}' exists with other arguments ({}); using it as it is", queue, refused);
            String passive =
                onOwnChannel(
                    ch -> {
                      ch.queueDeclarePassive(queue);
                      ch.exchangeDeclare(queue, "direct", true);
                      ch.queueBind(queue, queue, queue);
                    });
            if (passive != null) {
              throw new QueueDeclarationException(
                  "declaring queue '" + queue + "' failed: " + passive);
            }
            return t;
          }
        });
  }

  /**
   * Declares kombu's native delayed delivery topology with delay queues of {@code queueType}, and
   * binds {@code queues} (queue to routing key) to receive what comes out of it. Delay queues that
   * exist with other arguments (another type, declared by a Celery of other settings) are used as
   * they are.
   */
  Future<Void> declareDelayedDelivery(String queueType, Map<String, String> queues) {
    return blocking(
        () -> {
          List<AmqpQueues.Step> steps =
              new java.util.ArrayList<>(AmqpQueues.delayedDeliveryTopology(queueType));
          queues.forEach((q, key) -> steps.add(AmqpQueues.returnBinding(q, key)));
          Channel ch = connection.createChannel();
          try {
            for (AmqpQueues.Step step : steps) {
              if (!ch.isOpen()) {
                ch = connection.createChannel();
              }
              Channel c = ch;
              String refused = run(() -> apply(c, step));
              if (refused != null
                  && step instanceof AmqpQueues.QueueDeclare qd
                  && AmqpQueues.mismatch(refused) != null) {
                log.warn(
                    "Delay queue '{}' exists with other arguments ({}); using it as it is",
                    qd.name(),
                    refused);
              } else if (refused != null) {
                throw new QueueDeclarationException(
                    "declaring the native delayed delivery topology failed at "
                        + step
                        + ": "
                        + refused);
              }
            }
          } finally {
            closeQuietly(ch);
          }
          return null;
        });
  }

  private static void apply(Channel ch, AmqpQueues.Step step) throws IOException {
    if (step instanceof AmqpQueues.ExchangeDeclare e) {
      ch.exchangeDeclare(e.name(), "topic", true);
    } else if (step instanceof AmqpQueues.QueueDeclare q) {
      ch.queueDeclare(q.name(), true, false, false, AmqpValues.toTable(q.arguments()));
    } else if (step instanceof AmqpQueues.QueueBind b) {
      ch.queueBind(b.queue(), b.exchange(), b.routingKey());
    } else if (step instanceof AmqpQueues.ExchangeBind b) {
      ch.exchangeBind(b.destination(), b.source(), b.routingKey());
    }
  }

  private interface ChannelWork {
    void run(Channel ch) throws IOException;
  }

  private interface Work {
    void run() throws IOException;
  }

  /**
   * Runs {@code work} on a channel of its own; returns the broker's reply text if it refused, else
   * null.
   */
  private String onOwnChannel(ChannelWork work) throws IOException {
    Channel ch = connection.createChannel();
    try {
      return run(() -> work.run(ch));
    } finally {
      closeQuietly(ch);
    }
  }

  /**
   * Null when {@code work} succeeded; the reply text when the broker closed the channel over it.
   */
  private String run(Work work) throws IOException {
    try {
      work.run();
      return null;
    } catch (IOException e) {
      if (e.getCause() instanceof ShutdownSignalException sse
          && !sse.isHardError()
          && sse.getReason() instanceof AMQP.Channel.Close close) {
        return close.getReplyText();
      }
      throw e;
    }
  }

  private static void closeQuietly(Channel ch) {
    try {
      if (ch.isOpen()) {
        ch.close();
      }
    } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
      // closed by the broker meanwhile: nothing to release
    }
  }

  /**
   * Starts consuming {@code queue} (manual acks); returns the consumer tag. Deliveries reach {@code
   * handler} on the event loop; {@code cancelled} runs there if the broker cancels us.
   */
  Future<String> consume(String queue, Deliveries handler, Handler<String> cancelled) {
    DefaultConsumer consumer =
        new DefaultConsumer(channel) {
          @Override
          public void handleDelivery(
              String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
            inbox.post(handler.delivered(queue, envelope, properties, body)); // reader thread
          }

          @Override
          public void handleCancel(String tag) {
            inbox.post(() -> cancelled.handle(queue));
          }
        };
    return blocking(() -> channel.basicConsume(queue, false, consumer));
  }

  Future<Void> cancel(List<String> consumerTags) {
    return blocking(
        () -> {
          for (String tag : consumerTags) {
            try {
              channel.basicCancel(tag);
            } catch (IOException | RuntimeException e) {
              // gone already (queue deleted, channel closing): nothing left to cancel
            }
          }
          return null;
        });
  }

  /** basic.get without auto-ack; completes with null when the queue is empty. */
  Future<GetResponse> get(String queue) {
    return blocking(() -> channel.basicGet(queue, false));
  }

  /** Writes basic.ack on the calling thread (the event loop): see the class comment. */
  void ack(long deliveryTag, boolean multiple) throws IOException {
    channel.basicAck(deliveryTag, multiple);
  }

  void nack(long deliveryTag, boolean requeue) throws IOException {
    channel.basicNack(deliveryTag, false, requeue);
  }

  /** Closes without reporting a loss; unacked deliveries go back to their queues. */
  Future<Void> close() {
    closing = true;
    return blocking(
        () -> {
          connection.abort(5_000);
          return null;
        });
  }

  private <T> Future<T> blocking(java.util.concurrent.Callable<T> call) {
    return context.executeBlocking(call, true);
  }

  /**
   * Runs each task where it is submitted: the amqp-client's consumer dispatch, on its reader
   * thread.
   */
  private static final class InlineExecutor extends AbstractExecutorService {
    private volatile boolean shutdown;

    @Override
    public void execute(Runnable command) {
      command.run();
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return true;
    }
  }
}

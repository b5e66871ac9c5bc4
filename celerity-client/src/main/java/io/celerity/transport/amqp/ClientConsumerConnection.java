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
import io.celerity.types.Delivery;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The consumer connection on the RabbitMQ Java client ({@code consumer_connection: client}): its
 * reader thread converts each delivery and hands it to the event loop, many per event-loop task
 * under load; acks are written on the event loop (a few bytes into the socket buffer: this
 * connection never publishes, so RabbitMQ's flow control never holds it). Blocking RPCs (qos,
 * consume, cancel, get, declarations, close) run off the event loop, in order.
 */
final class ClientConsumerConnection implements ConsumerConnection {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(AmqpTransport.class);

  private final Context context;
  private final long generation;
  private final Connection connection;
  private final Channel channel;
  private final LoopMailbox inbox;
  private volatile boolean closing;

  private ClientConsumerConnection(
      Context context, long generation, Connection connection, Channel channel) {
    this.context = context;
    this.generation = generation;
    this.connection = connection;
    this.channel = channel;
    this.inbox = new LoopMailbox(context);
  }

  /**
   * Opens the connection and its channel. {@code lost} runs on {@code context} when the connection
   * or channel goes away without {@link #close()}, with the reason.
   */
  static Future<ConsumerConnection> open(
      Context context, AmqpUrl url, String name, long generation, Handler<String> lost) {
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
            ClientConsumerConnection cc = new ClientConsumerConnection(context, generation, c, ch);
            c.addShutdownListener(
                cause -> {
                  if (!cc.closing) {
                    context.runOnContext(v -> lost.handle(reason(cause)));
                  }
                });
            return (ConsumerConnection) cc;
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

  @Override
  public boolean isOpen() {
    return channel.isOpen() && connection.isOpen();
  }

  @Override
  public Future<Void> qos(int prefetch, boolean global) {
    return blocking(
        () -> {
          channel.basicQos(0, prefetch, global);
          return null;
        });
  }

  @Override
  public Future<Refusal> declare(List<AmqpQueues.Step> steps) {
    return blocking(
        () -> {
          Channel ch = connection.createChannel();
          try {
            for (int i = 0; i < steps.size(); i++) {
              AmqpQueues.Step step = steps.get(i);
              String refused = run(() -> apply(ch, step));
              if (refused != null) {
                return new Refusal(i, refused);
              }
            }
            return null;
          } finally {
            closeQuietly(ch);
          }
        });
  }

  private static void apply(Channel ch, AmqpQueues.Step step) throws IOException {
    if (step instanceof AmqpQueues.ExchangeDeclare e) {
      ch.exchangeDeclare(e.name(), e.type(), true);
    } else if (step instanceof AmqpQueues.QueueDeclare q) {
      ch.queueDeclare(q.name(), true, false, false, AmqpValues.toTable(q.arguments()));
    } else if (step instanceof AmqpQueues.QueueDeclarePassive q) {
      ch.queueDeclarePassive(q.name());
    } else if (step instanceof AmqpQueues.QueueBind b) {
      ch.queueBind(b.queue(), b.exchange(), b.routingKey());
    } else if (step instanceof AmqpQueues.ExchangeBind b) {
      ch.exchangeBind(b.destination(), b.source(), b.routingKey());
    }
  }

  private interface Work {
    void run() throws IOException;
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

  @Override
  public Future<String> consume(String queue, Deliveries handler, Handler<String> cancelled) {
    DefaultConsumer consumer =
        new DefaultConsumer(channel) {
          @Override
          public void handleDelivery(
              String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
            // On the reader thread: the conversion (mostly the headers table) happens here, where
            // the reader has time to spare, and the event loop gets the delivery ready to use.
            Delivery d;
            try {
              d = AmqpTransport.toDelivery(envelope, properties, body, queue, generation);
            } catch (RuntimeException e) {
              inbox.post(() -> handler.undecodable(queue, envelope.getDeliveryTag(), e.toString()));
              return;
            }
            inbox.post(() -> handler.delivered(d));
          }

          @Override
          public void handleCancel(String tag) {
            inbox.post(() -> cancelled.handle(queue));
          }
        };
    return blocking(() -> channel.basicConsume(queue, false, consumer));
  }

  @Override
  public Future<Void> cancel(List<String> consumerTags) {
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

  @Override
  public Future<Delivery> get(String queue) {
    return blocking(
        () -> {
          GetResponse r = channel.basicGet(queue, false);
          return r == null
              ? null
              : AmqpTransport.toDelivery(
                  r.getEnvelope(), r.getProps(), r.getBody(), queue, generation);
        });
  }

  @Override
  public void ack(long deliveryTag, boolean multiple) throws IOException {
    channel.basicAck(deliveryTag, multiple);
  }

  @Override
  public void nack(long deliveryTag, boolean requeue) throws IOException {
    channel.basicNack(deliveryTag, false, requeue);
  }

  @Override
  public Future<Void> close() {
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

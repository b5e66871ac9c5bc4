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
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The connection task messages arrive on, on the RabbitMQ Java client directly (Celery, too,
 * consumes on a connection of its own, apart from the one it publishes on).
 *
 * <p>Why not the Vert.x RabbitMQ client here: it hands every delivery from the connection's reader
 * thread to a consumer thread and then to the event loop, and sends every ack from a worker-pool
 * thread; on a 2-core machine those hand-offs cost more than the task. Here deliveries are handed
 * to the event loop straight from the reader thread, many per event-loop task under load, and
 * acks are written on the event loop: they are a few bytes into the socket buffer, and since this
 * connection never publishes, RabbitMQ's flow control (which stops reading from publishers) never
 * holds it. Blocking RPCs (qos, consume, cancel, get, close) run off the event loop, in order.
 */
final class ConsumerConnection {

  /** A delivery, still on the reader thread; {@code queue} as consumed. */
  interface Deliveries {
    void delivered(String queue, Envelope envelope, AMQP.BasicProperties properties, byte[] body);
  }

  private record Arrival(String queue, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
  }

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
  static Future<ConsumerConnection> open(Context context, AmqpUrl url, String name, Handler<String> lost) {
    return context.executeBlocking(() -> {
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
      // Consumer callbacks run on the reader thread itself: they only queue the delivery for the loop.
      f.setSharedExecutor(new InlineExecutor());
      if (url.ssl()) {
        f.useSslProtocol(io.celerity.transport.Tls.context());
        f.enableHostnameVerification();
      }
      Connection c = f.newConnection(name);
      try {
        Channel ch = c.createChannel();
        ConsumerConnection cc = new ConsumerConnection(context, c, ch);
        c.addShutdownListener(cause -> {
          if (!cc.closing) {
            context.runOnContext(v -> lost.handle(reason(cause)));
          }
        });
        return cc;
      } catch (IOException | RuntimeException e) {
        c.abort();
        throw e;
      }
    }, false);
  }

  private static String reason(ShutdownSignalException cause) {
    Object r = cause.getReason();
    return r instanceof com.rabbitmq.client.Method m ? m.protocolMethodName() + " " + cause.getMessage() : cause.getMessage();
  }

  boolean isOpen() {
    return channel.isOpen() && connection.isOpen();
  }

  Future<Void> qos(int prefetch) {
    return blocking(() -> {
      channel.basicQos(0, prefetch, true);
      return null;
    });
  }

  /**
   * Starts consuming {@code queue} (manual acks); returns the consumer tag. Deliveries reach
   * {@code handler} on the event loop; {@code cancelled} runs there if the broker cancels us.
   */
  Future<String> consume(String queue, Deliveries handler, Handler<String> cancelled) {
    DefaultConsumer consumer = new DefaultConsumer(channel) {
      @Override
      public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
        inbox.post(() -> handler.delivered(queue, envelope, properties, body)); // from the reader thread
      }

      @Override
      public void handleCancel(String tag) {
        inbox.post(() -> cancelled.handle(queue));
      }
    };
    return blocking(() -> channel.basicConsume(queue, false, consumer));
  }

  Future<Void> cancel(List<String> consumerTags) {
    return blocking(() -> {
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
    return blocking(() -> {
      connection.abort(5_000);
      return null;
    });
  }

  private <T> Future<T> blocking(java.util.concurrent.Callable<T> call) {
    return context.executeBlocking(call, true);
  }

  /** Runs each task where it is submitted: the amqp-client's consumer dispatch, on its reader thread. */
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

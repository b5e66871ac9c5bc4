package io.celerity.transport.amqp;

import io.celerity.transport.ConnectionLifecycle;
import io.celerity.transport.Tls;
import io.celerity.types.Delivery;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The task consumer's AMQP 0-9-1 connection, read and written on the consumer's event loop: a
 * delivery is parsed where its bytes arrive and handed on in the same event-loop task, with no
 * reader thread and no hand-off between threads; an ack is a 21-byte frame into the socket, flushed
 * with the other writes of the same turn.
 *
 * <p>It speaks the part of the protocol a consumer needs: the handshake (PLAIN, over TLS for {@code
 * amqps}), heartbeats both ways, channels with one synchronous method in flight each, declarations
 * on channels of their own, qos, consume, cancel (ours and the broker's), get, ack and nack. It
 * never publishes, so RabbitMQ's flow control (which stops reading from publishers) does not
 * concern it.
 */
final class LoopConsumerConnection implements ConsumerConnection {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(AmqpTransport.class);

  static final int DEFAULT_HEARTBEAT_SECONDS = 60;
  static final long DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
  static final long DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

  private static final int CONSUMER_CHANNEL = 1;
  private static final int MAX_FRAME = 131_072;

  private enum State {
    CONNECTING,
    AWAIT_START,
    AWAIT_TUNE,
    AWAIT_OPEN_OK,
    OPEN,
    CLOSING,
    CLOSED
  }

  private final Vertx vertx;
  private final Context context;
  private final AmqpUrl url;
  private final String name;
  private final long generation;
  private final Handler<String> lost;
  private final int heartbeatSeconds;
  private final Promise<ConsumerConnection> opened = Promise.promise();
  private final Promise<Void> closed = Promise.promise();
  private NetClient client;
  private NetSocket socket;
  private State state = State.CONNECTING;
  private String closeReason;

  private final AmqpFrameReader frames = new AmqpFrameReader(this::frame);
  private int frameMax = MAX_FRAME;
  private int channelMax = 2047;
  private int nextChannel = CONSUMER_CHANNEL + 1;
  private final Map<Integer, AmqpChannel> channels = new HashMap<>();
  private final Map<String, Consumer> consumers = new HashMap<>();
  private int nextConsumer;

  private long heartbeatTimer = -1;
  private long closeTimer = -1;
  private boolean readSinceTick;
  private boolean wroteSinceTick;
  private int quietTicks;

  /** The delivery whose header and body frames are arriving on the consumer channel. */
  private Incoming incoming;

  private LoopConsumerConnection(
      Vertx vertx,
      Context context,
      AmqpUrl url,
      String name,
      long generation,
      Handler<String> lost,
      int heartbeatSeconds) {
    this.vertx = vertx;
    this.heartbeatSeconds = heartbeatSeconds;
    this.context = context;
    this.url = url;
    this.name = name;
    this.generation = generation;
    this.lost = lost;
  }

  /**
   * Connects, shakes hands and opens the consumer channel. {@code lost} runs on {@code context}
   * when the connection goes away without {@link #close()}, with the reason.
   */
  static Future<ConsumerConnection> open(
      Vertx vertx, Context context, AmqpUrl url, String name, long gen, Handler<String> lost) {
    return open(vertx, context, url, name, gen, lost, DEFAULT_HEARTBEAT_SECONDS);
  }

  /** With the heartbeat interval asked of the broker (the lower of it and the broker's wins). */
  static Future<ConsumerConnection> open(
      Vertx vertx,
      Context context,
      AmqpUrl url,
      String name,
      long gen,
      Handler<String> lost,
      int heartbeatSeconds) {
    LoopConsumerConnection c =
        new LoopConsumerConnection(vertx, context, url, name, gen, lost, heartbeatSeconds);
    context.runOnContext(v -> c.connect());
    return c.opened.future();
  }

  private void connect() {
    NetClientOptions o =
        new NetClientOptions().setConnectTimeout(10_000).setTcpNoDelay(true).setSsl(url.ssl());
    if (url.ssl()) {
      o.setTrustOptions(Tls.vertxTrust())
          .setHostnameVerificationAlgorithm(Tls.HOSTNAME_VERIFICATION);
    }
    client = vertx.createNetClient(o);
    long handshakeTimer =
        vertx.setTimer(
            DEFAULT_HANDSHAKE_TIMEOUT_MS,
            id -> fail("no handshake within " + DEFAULT_HANDSHAKE_TIMEOUT_MS + " ms"));
    opened.future().onComplete(ar -> vertx.cancelTimer(handshakeTimer));
    client
        .connect(url.port(), url.host())
        .onSuccess(
            s -> {
              socket = s;
              if (state == State.CLOSED) {
                s.close();
                return;
              }
              s.handler(this::received);
              s.exceptionHandler(e -> fail(ConnectionLifecycle.describe(e)));
              s.closeHandler(v -> socketClosed());
              state = State.AWAIT_START;
              write(Buffer.buffer(AmqpCodec.PROTOCOL_HEADER));
            })
        .onFailure(e -> fail(ConnectionLifecycle.describe(e)));
  }

  // ---- reading

  private void received(Buffer data) {
    readSinceTick = true;
    try {
      frames.feed(data);
    } catch (RuntimeException e) { // a FrameException, or a value past a buffer's end
      log.error("Closing the consumer connection to {}: {}", url.redacted(), e.toString());
      sendClose(501, "FRAME_ERROR - " + e.getMessage());
      fail("frame error: " + e.getMessage());
    }
  }

  private boolean frame(int type, int channel, Buffer buf, int from, int end) {
    switch (type) {
      case AmqpCodec.FRAME_METHOD -> method(channel, new AmqpCodec.Reader(buf, from, end));
      case AmqpCodec.FRAME_HEADER -> header(channel, buf, from, end);
      case AmqpCodec.FRAME_BODY -> body(channel, buf, from, end);
      case AmqpCodec.FRAME_HEARTBEAT -> {}
      default -> throw new AmqpCodec.FrameException("unknown frame type " + type);
    }
    return state != State.CLOSED;
  }

  private void method(int channel, AmqpCodec.Reader r) {
    int methodId = (int) r.longInt();
    if (channel == 0) {
      connectionMethod(methodId, r);
      return;
    }
    if (methodId == AmqpCodec.BASIC_DELIVER) {
      deliver(channel, r);
      return;
    }
    AmqpChannel ch = channels.get(channel);
    if (ch == null) {
      throw new AmqpCodec.FrameException(
          "method " + AmqpCodec.name(methodId) + " on channel " + channel + ", not open");
    }
    switch (methodId) {
      case AmqpCodec.CHANNEL_CLOSE -> {
        int code = r.shortInt();
        String text = r.shortStr();
        write(
            AmqpCodec.Writer.method(Buffer.buffer(12), channel, AmqpCodec.CHANNEL_CLOSE_OK).end());
        channels.remove(channel);
        ch.closedByBroker(code + " " + text);
        if (channel == CONSUMER_CHANNEL) {
          fail("channel closed by the broker: " + code + " " + text);
        }
      }
      case AmqpCodec.CHANNEL_FLOW -> {
        boolean active = r.bit();
        write(
            AmqpCodec.Writer.method(Buffer.buffer(13), channel, AmqpCodec.CHANNEL_FLOW_OK)
                .bit(active)
                .end());
      }
      case AmqpCodec.BASIC_CANCEL -> {
        String tag = r.shortStr();
        boolean noWait = r.bit();
        Consumer c = consumers.get(tag);
        if (!noWait) {
          write(
              AmqpCodec.Writer.method(Buffer.buffer(64), channel, AmqpCodec.BASIC_CANCEL_OK)
                  .shortStr(tag)
                  .end());
        }
        if (c != null && c.active) {
          c.active = false;
          c.cancelled.handle(c.queue);
        }
      }
      case AmqpCodec.BASIC_GET_OK -> {
        long tag = r.longLong();
        boolean redelivered = r.bit();
        String exchange = r.shortStr();
        String routingKey = r.shortStr();
        AmqpChannel.Rpc rpc = ch.reply(methodId);
        if (channel != CONSUMER_CHANNEL || incoming != null) {
          throw new AmqpCodec.FrameException("basic.get-ok out of order");
        }
        incoming = new Incoming(null, rpc, tag, redelivered, exchange, routingKey, rpc.queue);
      }
      default -> ch.reply(methodId).done(methodId, r);
    }
  }

  private void connectionMethod(int methodId, AmqpCodec.Reader r) {
    switch (methodId) {
      case AmqpCodec.CONNECTION_START -> start(r);
      case AmqpCodec.CONNECTION_SECURE ->
          fail("the broker asked for a SASL challenge; only PLAIN is supported");
      case AmqpCodec.CONNECTION_TUNE -> tune(r);
      case AmqpCodec.CONNECTION_OPEN_OK -> openChannel(CONSUMER_CHANNEL);
      case AmqpCodec.CONNECTION_CLOSE -> {
        int code = r.shortInt();
        String text = r.shortStr();
        write(AmqpCodec.Writer.method(Buffer.buffer(12), 0, AmqpCodec.CONNECTION_CLOSE_OK).end());
        fail(code + " " + text);
      }
      case AmqpCodec.CONNECTION_CLOSE_OK -> {
        if (socket != null) {
          socket.close();
        }
      }
      case AmqpCodec.CONNECTION_BLOCKED, AmqpCodec.CONNECTION_UNBLOCKED -> {}
      default -> throw new AmqpCodec.FrameException("unexpected " + AmqpCodec.name(methodId));
    }
  }

  // ---- handshake

  private void start(AmqpCodec.Reader r) {
    if (state != State.AWAIT_START) {
      throw new AmqpCodec.FrameException("connection.start out of order");
    }
    r.octet(); // version
    r.octet();
    r.table(); // server properties
    String mechanisms = r.longStr();
    if (!List.of(mechanisms.split(" ")).contains("PLAIN")) {
      fail("the broker offers no PLAIN authentication (" + mechanisms + ")");
      return;
    }
    Map<String, Object> capabilities = new LinkedHashMap<>();
    capabilities.put("publisher_confirms", true);
    capabilities.put("exchange_exchange_bindings", true);
    capabilities.put("basic.nack", true);
    capabilities.put("consumer_cancel_notify", true);
    capabilities.put("authentication_failure_close", true);
    Map<String, Object> props = new LinkedHashMap<>();
    props.put("product", "celerity");
    props.put("platform", "Java " + System.getProperty("java.version"));
    props.put("capabilities", capabilities);
    props.put("connection_name", name);
    byte[] user = url.user().getBytes(StandardCharsets.UTF_8);
    byte[] password = url.password().getBytes(StandardCharsets.UTF_8);
    byte[] response = new byte[user.length + password.length + 2];
    System.arraycopy(user, 0, response, 1, user.length);
    System.arraycopy(password, 0, response, user.length + 2, password.length);
    state = State.AWAIT_TUNE;
    write(
        AmqpCodec.Writer.method(Buffer.buffer(256), 0, AmqpCodec.CONNECTION_START_OK)
            .table(props)
            .shortStr("PLAIN")
            .longStr(response)
            .shortStr("en_US")
            .end());
  }

  private void tune(AmqpCodec.Reader r) {
    if (state != State.AWAIT_TUNE) {
      throw new AmqpCodec.FrameException("connection.tune out of order");
    }
    int serverChannelMax = r.shortInt();
    long serverFrameMax = r.longInt();
    int serverHeartbeat = r.shortInt();
    channelMax = serverChannelMax == 0 ? 2047 : Math.min(serverChannelMax, 2047);
    frameMax = serverFrameMax == 0 ? MAX_FRAME : (int) Math.min(serverFrameMax, MAX_FRAME);
    frames.frameMax(frameMax);
    int heartbeat =
        serverHeartbeat == 0 ? heartbeatSeconds : Math.min(serverHeartbeat, heartbeatSeconds);
    state = State.AWAIT_OPEN_OK;
    write(
        AmqpCodec.Writer.method(Buffer.buffer(20), 0, AmqpCodec.CONNECTION_TUNE_OK)
            .shortInt(channelMax)
            .longInt(frameMax)
            .shortInt(heartbeat)
            .end());
    write(
        AmqpCodec.Writer.method(Buffer.buffer(64), 0, AmqpCodec.CONNECTION_OPEN)
            .shortStr(url.vhost())
            .shortStr("")
            .bit(false)
            .end());
    startHeartbeats(heartbeat);
  }

  private void openChannel(int channel) {
    AmqpChannel ch = new AmqpChannel(channel, this::write);
    channels.put(channel, ch);
    ch.call(
            AmqpCodec.Writer.method(Buffer.buffer(13), channel, AmqpCodec.CHANNEL_OPEN)
                .shortStr("")
                .end(),
            AmqpCodec.CHANNEL_OPEN_OK,
            null)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                fail("cannot open the consumer channel: " + ar.cause().getMessage());
              } else if (state == State.AWAIT_OPEN_OK) {
                state = State.OPEN;
                opened.tryComplete(this);
              }
            });
  }

  // ---- heartbeats

  private void startHeartbeats(int seconds) {
    // Ticks at half the interval: one without a write sends a heartbeat, four without a read
    // (two intervals) mean the broker is gone, as AMQP has it.
    long tickMs = seconds * 500L;
    heartbeatTimer =
        vertx.setPeriodic(
            tickMs,
            id -> {
              if (!wroteSinceTick) {
                write(AmqpCodec.heartbeat());
              }
              wroteSinceTick = false;
              quietTicks = readSinceTick ? 0 : quietTicks + 1;
              readSinceTick = false;
              if (quietTicks >= 4) {
                fail("no heartbeat from the broker in " + 2 * seconds + " s");
              }
            });
  }

  // ---- deliveries

  /** A consumer of this connection; after a cancel it still gets what the broker sent before. */
  private static final class Consumer {
    final String queue;
    final Deliveries deliveries;
    final Handler<String> cancelled;
    boolean active = true;

    Consumer(String queue, Deliveries deliveries, Handler<String> cancelled) {
      this.queue = queue;
      this.deliveries = deliveries;
      this.cancelled = cancelled;
    }
  }

  /** A message whose header and body frames are on their way. */
  private static final class Incoming {
    final Consumer consumer;
    final AmqpChannel.Rpc get;
    final long tag;
    final boolean redelivered;
    final String exchange;
    final String routingKey;
    final String queue;
    AmqpCodec.Properties properties;
    String undecodable;
    byte[] body;
    int received;

    Incoming(
        Consumer consumer,
        AmqpChannel.Rpc get,
        long tag,
        boolean redelivered,
        String exchange,
        String routingKey,
        String queue) {
      this.consumer = consumer;
      this.get = get;
      this.tag = tag;
      this.redelivered = redelivered;
      this.exchange = exchange;
      this.routingKey = routingKey;
      this.queue = queue;
    }
  }

  private void deliver(int channel, AmqpCodec.Reader r) {
    String consumerTag = r.shortStr();
    long tag = r.longLong();
    boolean redelivered = r.bit();
    String exchange = r.shortStr();
    String routingKey = r.shortStr();
    Consumer c = consumers.get(consumerTag);
    if (channel != CONSUMER_CHANNEL || incoming != null || c == null) {
      throw new AmqpCodec.FrameException("basic.deliver out of order or for an unknown consumer");
    }
    // A consumer we cancelled still gets what the broker sent before cancel-ok: it is handed on
    // (and then run or requeued as any other), not left unacked.
    incoming = new Incoming(c, null, tag, redelivered, exchange, routingKey, c.queue);
  }

  private void header(int channel, Buffer buf, int from, int end) {
    Incoming in = incoming;
    if (channel != CONSUMER_CHANNEL
        || in == null
        || in.properties != null
        || in.undecodable != null) {
      throw new AmqpCodec.FrameException("content header without a delivery");
    }
    AmqpCodec.Reader r = new AmqpCodec.Reader(buf, from, end);
    r.shortInt(); // class
    r.shortInt(); // weight
    long size = r.longLong();
    if (size < 0 || size > Integer.MAX_VALUE - 8) {
      throw new AmqpCodec.FrameException("body of " + size + " bytes");
    }
    try {
      in.properties = AmqpCodec.properties(r);
    } catch (AmqpCodec.FrameException e) {
      in.undecodable = e.getMessage(); // the frame's bounds held: only this message is lost
    }
    in.body = new byte[(int) size];
    if (size == 0) {
      complete(in);
    }
  }

  private void body(int channel, Buffer buf, int from, int end) {
    Incoming in = incoming;
    if (channel != CONSUMER_CHANNEL || in == null || in.body == null) {
      throw new AmqpCodec.FrameException("content body without a header");
    }
    int n = end - from;
    if (in.received + n > in.body.length) {
      throw new AmqpCodec.FrameException("content body longer than its header says");
    }
    buf.getBytes(from, end, in.body, in.received);
    in.received += n;
    if (in.received == in.body.length) {
      complete(in);
    }
  }

  private void complete(Incoming in) {
    incoming = null;
    if (in.undecodable != null) {
      if (in.get != null) {
        in.get.promise.tryFail(new AmqpTransport.UndecodableDelivery(in.tag, in.undecodable));
      } else {
        in.consumer.deliveries.undecodable(in.queue, in.tag, in.undecodable);
      }
      return;
    }
    AmqpCodec.Properties p = in.properties;
    Delivery d =
        new Delivery(
            in.body,
            p.contentType(),
            p.contentEncoding(),
            p.headers() == null ? new LinkedHashMap<>() : p.headers(),
            p.correlationId(),
            p.replyTo(),
            p.priority(),
            in.exchange,
            in.routingKey,
            in.queue,
            in.redelivered,
            in.tag,
            generation);
    if (in.get != null) {
      in.get.promise.tryComplete(d);
      return;
    }
    try {
      in.consumer.deliveries.delivered(d);
    } catch (RuntimeException e) {
      log.error("Handling delivery {} from queue {} failed", in.tag, in.queue, e);
    }
  }

  // ---- channels and synchronous methods

  private AmqpChannel consumerChannel() {
    AmqpChannel ch = channels.get(CONSUMER_CHANNEL);
    if (ch == null || state != State.OPEN) {
      throw new IllegalStateException("consumer connection closed" + reasonSuffix());
    }
    return ch;
  }

  private String reasonSuffix() {
    return closeReason == null ? "" : ": " + closeReason;
  }

  /** Runs {@code call} on the event loop and returns its result there. */
  private <T> Future<T> onLoop(java.util.function.Supplier<Future<T>> call) {
    if (Context.isOnEventLoopThread() && Vertx.currentContext() == context) {
      try {
        return call.get();
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }
    Promise<T> p = Promise.promise();
    context.runOnContext(
        v -> {
          try {
            call.get().onComplete(p);
          } catch (RuntimeException e) {
            p.fail(e);
          }
        });
    return p.future();
  }

  @Override
  public boolean isOpen() {
    return state == State.OPEN;
  }

  @Override
  public Future<Void> qos(int prefetch, boolean global) {
    return onLoop(
        () ->
            consumerChannel()
                .call(
                    AmqpCodec.Writer.method(
                            Buffer.buffer(20), CONSUMER_CHANNEL, AmqpCodec.BASIC_QOS)
                        .longInt(0)
                        .shortInt(Math.min(Math.max(prefetch, 0), 0xFFFF))
                        .bit(global)
                        .end(),
                    AmqpCodec.BASIC_QOS_OK,
                    null)
                .mapEmpty());
  }

  @Override
  public Future<String> consume(String queue, Deliveries deliveries, Handler<String> cancelled) {
    return onLoop(
        () -> {
          AmqpChannel ch = consumerChannel();
          String tag = "celerity." + generation + "." + ++nextConsumer;
          consumers.put(tag, new Consumer(queue, deliveries, cancelled));
          return ch.call(
                  AmqpCodec.Writer.method(
                          Buffer.buffer(128), CONSUMER_CHANNEL, AmqpCodec.BASIC_CONSUME)
                      .shortInt(0)
                      .shortStr(queue)
                      .shortStr(tag)
                      .bit(false) // no-local
                      .bit(false) // no-ack
                      .bit(false) // exclusive
                      .bit(false) // no-wait
                      .table(Map.of())
                      .end(),
                  AmqpCodec.BASIC_CONSUME_OK,
                  queue)
              .map(t -> tag)
              .onFailure(e -> consumers.get(tag).active = false);
        });
  }

  @Override
  public Future<Void> cancel(List<String> consumerTags) {
    return onLoop(
        () -> {
          if (state != State.OPEN) {
            return Future.succeededFuture();
          }
          AmqpChannel ch = consumerChannel();
          Future<Object> last = Future.succeededFuture();
          for (String tag : consumerTags) {
            Consumer c = consumers.get(tag);
            if (c == null || !c.active) {
              continue; // gone already (the broker cancelled it)
            }
            c.active = false;
            last =
                ch.call(
                    AmqpCodec.Writer.method(
                            Buffer.buffer(64), CONSUMER_CHANNEL, AmqpCodec.BASIC_CANCEL)
                        .shortStr(tag)
                        .bit(false)
                        .end(),
                    AmqpCodec.BASIC_CANCEL_OK,
                    null);
          }
          return last.mapEmpty();
        });
  }

  @Override
  public Future<Delivery> get(String queue) {
    return onLoop(
        () ->
            consumerChannel()
                .call(
                    AmqpCodec.Writer.method(
                            Buffer.buffer(64), CONSUMER_CHANNEL, AmqpCodec.BASIC_GET)
                        .shortInt(0)
                        .shortStr(queue)
                        .bit(false)
                        .end(),
                    AmqpCodec.BASIC_GET_OK,
                    queue)
                .map(d -> (Delivery) d));
  }

  @Override
  public Future<Refusal> declare(List<AmqpQueues.Step> steps) {
    return onLoop(
        () -> {
          if (state != State.OPEN) {
            return Future.failedFuture("consumer connection closed" + reasonSuffix());
          }
          int number = freeChannel();
          AmqpChannel ch = new AmqpChannel(number, this::write);
          channels.put(number, ch);
          Future<Object> f =
              ch.call(
                  AmqpCodec.Writer.method(Buffer.buffer(13), number, AmqpCodec.CHANNEL_OPEN)
                      .shortStr("")
                      .end(),
                  AmqpCodec.CHANNEL_OPEN_OK,
                  null);
          for (AmqpQueues.Step step : steps) {
            f = f.compose(v -> stepOn(ch, step));
          }
          return f.transform(
              ar -> {
                if (ar.succeeded()) {
                  closeChannel(ch);
                  return Future.succeededFuture(null);
                }
                if (ar.cause() instanceof AmqpChannel.ChannelClosed closedOver && ch.refused) {
                  return Future.succeededFuture(
                      new Refusal(ch.refusedStep, replyText(closedOver.getMessage())));
                }
                closeChannel(ch);
                return Future.failedFuture(ar.cause());
              });
        });
  }

  /** "406 PRECONDITION_FAILED - ..." to the text after the code, as the client reports it. */
  private static String replyText(String codeAndText) {
    int space = codeAndText.indexOf(' ');
    return space < 0 ? codeAndText : codeAndText.substring(space + 1);
  }

  private int freeChannel() {
    for (int i = 0; i < channelMax; i++) {
      int n = nextChannel;
      nextChannel = nextChannel >= channelMax ? CONSUMER_CHANNEL + 1 : nextChannel + 1;
      if (!channels.containsKey(n)) {
        return n;
      }
    }
    throw new IllegalStateException("no free channel");
  }

  private void closeChannel(AmqpChannel ch) {
    if (ch.closedBecause != null || state != State.OPEN) {
      channels.remove(ch.number);
      return;
    }
    ch.call(
            AmqpCodec.Writer.method(Buffer.buffer(20), ch.number, AmqpCodec.CHANNEL_CLOSE)
                .shortInt(200)
                .shortStr("")
                .shortInt(0)
                .shortInt(0)
                .end(),
            AmqpCodec.CHANNEL_CLOSE_OK,
            null)
        .onComplete(ar -> channels.remove(ch.number));
  }

  private Future<Object> stepOn(AmqpChannel ch, AmqpQueues.Step step) {
    ch.refusedStep++;
    return ch.call(AmqpCodec.declaration(ch.number, step), AmqpCodec.declarationReply(step), null);
  }

  // ---- acks

  @Override
  public void ack(long deliveryTag, boolean multiple) throws IOException {
    checkWritable();
    write(AmqpCodec.ack(Buffer.buffer(21), CONSUMER_CHANNEL, deliveryTag, multiple));
  }

  /** One write for all of them: the acks of a turn cost one syscall, not one each. */
  @Override
  public void ack(List<AckBatcher.AckOp> ops) throws IOException {
    checkWritable();
    Buffer b = Buffer.buffer(21 * ops.size());
    for (AckBatcher.AckOp op : ops) {
      AmqpCodec.ack(b, CONSUMER_CHANNEL, op.tag(), op.multiple());
    }
    write(b);
  }

  @Override
  public void nack(long deliveryTag, boolean requeue) throws IOException {
    checkWritable();
    write(
        AmqpCodec.Writer.method(Buffer.buffer(21), CONSUMER_CHANNEL, AmqpCodec.BASIC_NACK)
            .longLong(deliveryTag)
            .bit(false) // multiple
            .bit(requeue)
            .end());
  }

  private void checkWritable() throws IOException {
    if (state != State.OPEN) {
      throw new IOException("consumer connection closed" + reasonSuffix());
    }
  }

  private void write(Buffer b) {
    wroteSinceTick = true;
    if (socket != null && state != State.CLOSED) {
      socket.write(b);
    }
  }

  // ---- closing

  @Override
  public Future<Void> close() {
    context.runOnContext(
        v -> {
          if (state == State.CLOSED || state == State.CLOSING) {
            return;
          }
          boolean wasOpen = state == State.OPEN;
          state = State.CLOSING;
          closeReason = "closed";
          if (!wasOpen || socket == null) {
            shutdown("closed");
            return;
          }
          sendClose(200, "bye");
          // unacked deliveries go back to their queues when the socket closes, close-ok or not
          closeTimer = vertx.setTimer(DEFAULT_CLOSE_TIMEOUT_MS, id -> shutdown("closed"));
        });
    return closed.future();
  }

  private void sendClose(int code, String text) {
    if (socket != null && state != State.CLOSED) {
      socket.write(
          AmqpCodec.Writer.method(Buffer.buffer(64), 0, AmqpCodec.CONNECTION_CLOSE)
              .shortInt(code)
              .shortStr(text)
              .shortInt(0)
              .shortInt(0)
              .end());
    }
  }

  private void socketClosed() {
    if (state == State.CLOSING) {
      shutdown("closed");
    } else {
      fail("connection closed by the broker or the network");
    }
  }

  /** The connection failed: before it opened, the open fails; after, {@code lost} runs once. */
  private void fail(String why) {
    if (state == State.CLOSED) {
      return;
    }
    boolean reportLoss = state == State.OPEN;
    shutdown(why);
    if (reportLoss) {
      lost.handle(why);
    }
  }

  private void shutdown(String why) {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    if (closeReason == null) {
      closeReason = why;
    }
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
    }
    if (closeTimer >= 0) {
      vertx.cancelTimer(closeTimer);
    }
    for (AmqpChannel ch : channels.values()) {
      ch.gone("connection closed: " + why);
    }
    channels.clear();
    if (incoming != null && incoming.get != null) {
      incoming.get.promise.tryFail(new IOException("connection closed: " + why));
    }
    incoming = null;
    opened.tryFail(new IOException(why));
    if (socket != null) {
      socket.close();
    }
    if (client != null) {
      client.close();
    }
    closed.tryComplete();
  }
}

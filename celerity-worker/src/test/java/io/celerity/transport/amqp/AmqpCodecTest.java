package io.celerity.transport.amqp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.impl.AMQImpl;
import com.rabbitmq.client.impl.Frame;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The event-loop consumer's wire format, checked against the RabbitMQ Java client's: what the
 * client writes we read to the same values its own path gives, and what we write the client reads.
 */
class AmqpCodecTest {

  private static byte[] bytes(Frame... frames) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    DataOutputStream data = new DataOutputStream(out);
    for (Frame f : frames) {
      f.writeTo(data);
    }
    return out.toByteArray();
  }

  private record Seen(int type, int channel, byte[] payload) {}

  private static List<Seen> read(byte[] stream, int... cuts) {
    List<Seen> seen = new ArrayList<>();
    AmqpFrameReader r =
        new AmqpFrameReader(
            (type, channel, buf, from, end) -> {
              seen.add(new Seen(type, channel, buf.getBytes(from, end)));
              return true;
            });
    int at = 0;
    for (int cut : cuts) {
      r.feed(Buffer.buffer(java.util.Arrays.copyOfRange(stream, at, cut)));
      at = cut;
    }
    r.feed(Buffer.buffer(java.util.Arrays.copyOfRange(stream, at, stream.length)));
    assertEquals(0, r.pendingBytes());
    return seen;
  }

  private static Map<String, Object> celeryLikeHeaders() {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("soft", 1.5);
    nested.put("hard", null);
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("lang", "py");
    h.put("task", "examples.add");
    h.put("id", "5b3c0e6a-0000-4000-8000-000000000001");
    h.put("retries", 3);
    h.put("eta", null);
    h.put("big", 1L << 40);
    h.put("ignore_result", true);
    h.put("timelimit", List.of(30, "x", 2.5));
    h.put("options", nested);
    h.put("bytes", "é€".getBytes(StandardCharsets.UTF_8));
    h.put("decimal", new BigDecimal("12.34"));
    h.put("when", new Date(1_700_000_000_000L));
    h.put("short", (short) -7);
    h.put("byte", (byte) 9);
    h.put("float", 0.25f);
    return h;
  }

  @Test
  void aDeliveryWrittenByTheClientReadsToTheValuesTheClientsPathGives() throws Exception {
    Map<String, Object> headers = celeryLikeHeaders();
    AMQP.BasicProperties props =
        new AMQP.BasicProperties.Builder()
            .contentType("application/json")
            .contentEncoding("utf-8")
            .headers(headers)
            .deliveryMode(2)
            .priority(4)
            .correlationId("corr")
            .replyTo("reply.q")
            .expiration("60000")
            .messageId("mid")
            .timestamp(new Date(1_700_000_000_000L))
            .type("t")
            .userId("guest")
            .appId("app")
            .build();
    byte[] body = "[[2, 2], {}, {}]".getBytes(StandardCharsets.UTF_8);
    byte[] stream =
        bytes(
            new AMQImpl.Basic.Deliver("ctag", 42L, true, "ex", "rk").toFrame(1),
            props.toFrame(1, body.length),
            new Frame(AMQP.FRAME_BODY, 1, body));

    List<Seen> whole = read(stream);
    assertEquals(3, whole.size());
    AmqpCodec.Reader deliver =
        new AmqpCodec.Reader(
            Buffer.buffer(whole.get(0).payload()), 0, whole.get(0).payload().length);
    assertEquals(AmqpCodec.BASIC_DELIVER, (int) deliver.longInt());
    assertEquals("ctag", deliver.shortStr());
    assertEquals(42L, deliver.longLong());
    assertTrue(deliver.bit());
    assertEquals("ex", deliver.shortStr());
    assertEquals("rk", deliver.shortStr());

    byte[] h = whole.get(1).payload();
    AmqpCodec.Reader header = new AmqpCodec.Reader(Buffer.buffer(h), 0, h.length);
    assertEquals(60, header.shortInt());
    header.shortInt();
    assertEquals(body.length, header.longLong());
    AmqpCodec.Properties p = AmqpCodec.properties(header);
    assertEquals("application/json", p.contentType());
    assertEquals("utf-8", p.contentEncoding());
    assertEquals("corr", p.correlationId());
    assertEquals("reply.q", p.replyTo());
    assertEquals(4, p.priority());

    // the client's own path: its parse of the same bytes, then our conversion of its types
    AMQP.BasicProperties clientParsed =
        (AMQP.BasicProperties)
            AMQImpl.readContentHeaderFrom(new DataInputStream(new ByteArrayInputStream(h)));
    assertEquals(AmqpValues.fromTable(clientParsed.getHeaders()), p.headers());
    assertEquals("é€", p.headers().get("bytes"));
    assertEquals(List.of(30, "x", 2.5), p.headers().get("timelimit"));
    assertEquals(new String(body, StandardCharsets.UTF_8), new String(whole.get(2).payload()));
  }

  @Test
  void framesSplitAtAnyByteComeOutWholeAndInOrder() throws Exception {
    byte[] body = new byte[300];
    java.util.Arrays.fill(body, (byte) 'b');
    byte[] stream =
        bytes(
            new AMQImpl.Basic.Deliver("ctag", 7L, false, "", "celery").toFrame(1),
            new AMQP.BasicProperties.Builder()
                .contentType("application/json")
                .build()
                .toFrame(1, 300),
            new Frame(AMQP.FRAME_BODY, 1, java.util.Arrays.copyOf(body, 100)),
            new Frame(AMQP.FRAME_BODY, 1, java.util.Arrays.copyOf(body, 200)),
            new Frame(AMQP.FRAME_HEARTBEAT, 0));
    List<Seen> expected = read(stream);
    assertEquals(List.of(1, 2, 3, 3, 8), expected.stream().map(Seen::type).toList());
    for (int a = 1; a < stream.length; a += 3) {
      for (int b = a; b < stream.length; b += 17) {
        List<Seen> got = read(stream, a, b);
        assertEquals(expected.size(), got.size(), "cut at " + a + ", " + b);
        for (int i = 0; i < got.size(); i++) {
          assertEquals(expected.get(i).type(), got.get(i).type());
          assertEquals(expected.get(i).channel(), got.get(i).channel());
          assertTrue(java.util.Arrays.equals(expected.get(i).payload(), got.get(i).payload()));
        }
      }
    }
  }

  @Test
  void aFrameOverFrameMaxOrWithoutItsEndOctetIsAFrameError() throws Exception {
    byte[] stream = bytes(new Frame(AMQP.FRAME_BODY, 1, new byte[64]));
    AmqpFrameReader small = new AmqpFrameReader((t, c, b, f, e) -> true);
    small.frameMax(32);
    assertThrows(AmqpCodec.FrameException.class, () -> small.feed(Buffer.buffer(stream)));

    stream[stream.length - 1] = 0;
    AmqpFrameReader r = new AmqpFrameReader((t, c, b, f, e) -> true);
    assertThrows(AmqpCodec.FrameException.class, () -> r.feed(Buffer.buffer(stream)));
  }

  @Test
  void aHeadersTableThatOverrunsItsFrameIsRefusedWithinTheFrame() {
    // property flags: headers only; the table claims 100 bytes, the frame has 3
    Buffer b = Buffer.buffer().appendUnsignedShort(1 << 13).appendInt(100).appendBytes(new byte[3]);
    AmqpCodec.Reader r = new AmqpCodec.Reader(b, 0, b.length());
    assertThrows(AmqpCodec.FrameException.class, () -> AmqpCodec.properties(r));

    // a value type no AMQP peer writes
    Buffer t = Buffer.buffer().appendUnsignedShort(1 << 13).appendInt(3);
    t.appendByte((byte) 1).appendByte((byte) 'k').appendByte((byte) 'Q');
    AmqpCodec.Reader r2 = new AmqpCodec.Reader(t, 0, t.length());
    AmqpCodec.FrameException e =
        assertThrows(AmqpCodec.FrameException.class, () -> AmqpCodec.properties(r2));
    assertTrue(e.getMessage().contains("'Q'"), e.getMessage());

    // nested deeper than MAX_DEPTH: refused before the event loop's stack runs out
    Buffer deep = Buffer.buffer();
    for (int i = 0; i <= AmqpCodec.Reader.MAX_DEPTH + 1; i++) {
      Buffer wrapped = Buffer.buffer().appendByte((byte) 1).appendByte((byte) 'n');
      wrapped.appendByte((byte) 'F').appendInt(deep.length()).appendBuffer(deep);
      deep = wrapped;
    }
    Buffer d =
        Buffer.buffer().appendUnsignedShort(1 << 13).appendInt(deep.length()).appendBuffer(deep);
    AmqpCodec.Reader r3 = new AmqpCodec.Reader(d, 0, d.length());
    e = assertThrows(AmqpCodec.FrameException.class, () -> AmqpCodec.properties(r3));
    assertTrue(e.getMessage().contains("nested"), e.getMessage());
  }

  private static Object readBack(Buffer frame) throws Exception {
    Frame f =
        Frame.readFrom(new DataInputStream(new ByteArrayInputStream(frame.getBytes())), 131_072);
    return AMQImpl.readMethodFrom(f.getInputStream());
  }

  @Test
  void whatWeWriteTheClientReads() throws Exception {
    Map<String, Object> args = new LinkedHashMap<>();
    args.put("x-queue-type", "quorum");
    args.put("x-max-priority", 10);
    args.put("x-message-ttl", 1000L);
    args.put("x-single-active-consumer", false);
    AMQImpl.Queue.Declare declare =
        (AMQImpl.Queue.Declare)
            readBack(AmqpCodec.declaration(3, new AmqpQueues.QueueDeclare("celery", args)));
    assertEquals("celery", declare.getQueue());
    assertTrue(declare.getDurable());
    assertFalse(declare.getPassive());
    assertFalse(declare.getAutoDelete());
    assertEquals(args, AmqpValues.fromTable(declare.getArguments()));

    AMQImpl.Exchange.Declare exchange =
        (AMQImpl.Exchange.Declare)
            readBack(AmqpCodec.declaration(3, new AmqpQueues.ExchangeDeclare("celery", "direct")));
    assertEquals("direct", exchange.getType());
    assertTrue(exchange.getDurable());
    AMQImpl.Queue.Bind bind =
        (AMQImpl.Queue.Bind)
            readBack(AmqpCodec.declaration(3, new AmqpQueues.QueueBind("q", "ex", "#.q")));
    assertEquals(
        List.of("q", "ex", "#.q"),
        List.of(bind.getQueue(), bind.getExchange(), bind.getRoutingKey()));
    AMQImpl.Exchange.Bind xbind =
        (AMQImpl.Exchange.Bind)
            readBack(AmqpCodec.declaration(3, new AmqpQueues.ExchangeBind("dst", "src", "1.#")));
    assertEquals(
        List.of("dst", "src", "1.#"),
        List.of(xbind.getDestination(), xbind.getSource(), xbind.getRoutingKey()));
    assertTrue(
        ((AMQImpl.Queue.Declare)
                readBack(AmqpCodec.declaration(3, new AmqpQueues.QueueDeclarePassive("q"))))
            .getPassive());

    AMQImpl.Basic.Ack ack =
        (AMQImpl.Basic.Ack) readBack(AmqpCodec.ack(Buffer.buffer(), 1, 1L << 33, true));
    assertEquals(1L << 33, ack.getDeliveryTag());
    assertTrue(ack.getMultiple());

    AMQImpl.Basic.Nack nack =
        (AMQImpl.Basic.Nack)
            readBack(
                AmqpCodec.Writer.method(Buffer.buffer(), 1, AmqpCodec.BASIC_NACK)
                    .longLong(5)
                    .bit(false)
                    .bit(true)
                    .end());
    assertEquals(5, nack.getDeliveryTag());
    assertFalse(nack.getMultiple());
    assertTrue(nack.getRequeue());

    AMQImpl.Basic.Qos qos =
        (AMQImpl.Basic.Qos)
            readBack(
                AmqpCodec.Writer.method(Buffer.buffer(), 1, AmqpCodec.BASIC_QOS)
                    .longInt(0)
                    .shortInt(64)
                    .bit(true)
                    .end());
    assertEquals(64, qos.getPrefetchCount());
    assertTrue(qos.getGlobal());
  }
}

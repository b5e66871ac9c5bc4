package io.celerity.transport.amqp;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AMQP 0-9-1 wire format for the methods a consuming connection sends and receives: frames, method
 * arguments, content headers and field tables. Field-table values are read straight into the plain
 * Java types the protocol layer uses (what {@link AmqpValues#fromAmqp} makes of the RabbitMQ
 * client's), and written as the RabbitMQ client writes them.
 */
final class AmqpCodec {

  private AmqpCodec() {}

  static final byte[] PROTOCOL_HEADER = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

  static final int FRAME_METHOD = 1;
  static final int FRAME_HEADER = 2;
  static final int FRAME_BODY = 3;
  static final int FRAME_HEARTBEAT = 8;
  static final int FRAME_END = 0xCE;

  // class and method ids, (class << 16) | method
  static final int CONNECTION_START = (10 << 16) | 10;
  static final int CONNECTION_START_OK = (10 << 16) | 11;
  static final int CONNECTION_SECURE = (10 << 16) | 20;
  static final int CONNECTION_TUNE = (10 << 16) | 30;
  static final int CONNECTION_TUNE_OK = (10 << 16) | 31;
  static final int CONNECTION_OPEN = (10 << 16) | 40;
  static final int CONNECTION_OPEN_OK = (10 << 16) | 41;
  static final int CONNECTION_CLOSE = (10 << 16) | 50;
  static final int CONNECTION_CLOSE_OK = (10 << 16) | 51;
  static final int CONNECTION_BLOCKED = (10 << 16) | 60;
  static final int CONNECTION_UNBLOCKED = (10 << 16) | 61;
  static final int CHANNEL_OPEN = (20 << 16) | 10;
  static final int CHANNEL_OPEN_OK = (20 << 16) | 11;
  static final int CHANNEL_FLOW = (20 << 16) | 20;
  static final int CHANNEL_FLOW_OK = (20 << 16) | 21;
  static final int CHANNEL_CLOSE = (20 << 16) | 40;
  static final int CHANNEL_CLOSE_OK = (20 << 16) | 41;
  static final int EXCHANGE_DECLARE = (40 << 16) | 10;
  static final int EXCHANGE_DECLARE_OK = (40 << 16) | 11;
  static final int EXCHANGE_BIND = (40 << 16) | 30;
  static final int EXCHANGE_BIND_OK = (40 << 16) | 31;
  static final int QUEUE_DECLARE = (50 << 16) | 10;
  static final int QUEUE_DECLARE_OK = (50 << 16) | 11;
  static final int QUEUE_BIND = (50 << 16) | 20;
  static final int QUEUE_BIND_OK = (50 << 16) | 21;
  static final int BASIC_QOS = (60 << 16) | 10;
  static final int BASIC_QOS_OK = (60 << 16) | 11;
  static final int BASIC_CONSUME = (60 << 16) | 20;
  static final int BASIC_CONSUME_OK = (60 << 16) | 21;
  static final int BASIC_CANCEL = (60 << 16) | 30;
  static final int BASIC_CANCEL_OK = (60 << 16) | 31;
  static final int BASIC_DELIVER = (60 << 16) | 60;
  static final int BASIC_GET = (60 << 16) | 70;
  static final int BASIC_GET_OK = (60 << 16) | 71;
  static final int BASIC_GET_EMPTY = (60 << 16) | 72;
  static final int BASIC_ACK = (60 << 16) | 80;
  static final int BASIC_NACK = (60 << 16) | 120;

  static String name(int methodId) {
    return (methodId >>> 16) + "." + (methodId & 0xFFFF);
  }

  /** A malformed frame or value: the connection cannot go on (AMQP's FRAME_ERROR, 501). */
  static final class FrameException extends RuntimeException {
    FrameException(String message) {
      super(message);
    }
  }

  /**
   * Reads values from one frame's payload, in order. Bounds are checked against the payload's end,
   * not only the buffer's: a length that points past the frame is a frame error.
   */
  static final class Reader {
    static final int MAX_DEPTH = 100;

    private final Buffer buf;
    private int pos;
    private final int end;
    private int bits;
    private int bitMask = 0x100;
    private int depth;

    Reader(Buffer buf, int from, int end) {
      this.buf = buf;
      this.pos = from;
      this.end = end;
    }

    private int need(int n) {
      if (n < 0 || pos + n > end) {
        throw new FrameException("value runs past the end of its frame");
      }
      int at = pos;
      pos += n;
      bitMask = 0x100;
      return at;
    }

    int octet() {
      return buf.getUnsignedByte(need(1));
    }

    int shortInt() {
      return buf.getUnsignedShort(need(2));
    }

    long longInt() {
      return buf.getUnsignedInt(need(4));
    }

    long longLong() {
      return buf.getLong(need(8));
    }

    boolean bit() {
      if (bitMask > 0x80) {
        bits = buf.getUnsignedByte(need(1));
        bitMask = 1;
      }
      boolean b = (bits & bitMask) != 0;
      bitMask <<= 1;
      return b;
    }

    String shortStr() {
      int n = octet();
      return buf.getString(need(n), pos, "UTF-8");
    }

    byte[] longStrBytes() {
      long n = longInt();
      if (n > end - pos) {
        throw new FrameException("value runs past the end of its frame");
      }
      int at = need((int) n);
      return buf.getBytes(at, at + (int) n);
    }

    String longStr() {
      long n = longInt();
      if (n > end - pos) {
        throw new FrameException("value runs past the end of its frame");
      }
      int at = need((int) n);
      return buf.getString(at, at + (int) n, "UTF-8");
    }

    /**
     * Tables and arrays nest at most {@link #MAX_DEPTH} deep: deeper (which RabbitMQ passes on)
     * would overflow the event loop's stack.
     */
    private void nest() {
      if (++depth > MAX_DEPTH) {
        throw new FrameException("field tables nested over " + MAX_DEPTH + " deep");
      }
    }

    Map<String, Object> table() {
      long n = longInt();
      if (n > end - pos) {
        throw new FrameException("field table runs past the end of its frame");
      }
      int tableEnd = pos + (int) n;
      nest();
      Map<String, Object> out = new LinkedHashMap<>(Math.max(16, (int) (n / 16)));
      while (pos < tableEnd) {
        String key = shortStr();
        out.put(key, value(tableEnd));
      }
      if (pos != tableEnd) {
        throw new FrameException("field table overruns its size");
      }
      depth--;
      bitMask = 0x100;
      return out;
    }

    private Object value(int limit) {
      int type = octet();
      Object v =
          switch (type) {
            case 'S' -> longStr();
            case 'x' -> new String(longStrBytes(), StandardCharsets.UTF_8);
            case 'I' -> buf.getInt(need(4));
            case 'i' -> longInt();
            case 'l' -> longLong();
            case 't' -> octet() != 0;
            case 'b' -> (int) buf.getByte(need(1));
            case 'B' -> octet();
            case 's' -> (int) buf.getShort(need(2));
            case 'u' -> shortInt();
            case 'f' -> buf.getFloat(need(4));
            case 'd' -> buf.getDouble(need(8));
            case 'D' -> {
              int scale = octet();
              long unscaled = buf.getInt(need(4));
              yield java.math.BigDecimal.valueOf(unscaled, scale).doubleValue();
            }
            case 'T' -> Instant.ofEpochSecond(longLong()).toString();
            case 'F' -> table();
            case 'A' -> array();
            case 'V' -> null;
            default ->
                throw new FrameException("unknown field-table value type '" + (char) type + "'");
          };
      if (pos > limit) {
        throw new FrameException("field-table value runs past its table");
      }
      return v;
    }

    private List<Object> array() {
      long n = longInt();
      if (n > end - pos) {
        throw new FrameException("field array runs past the end of its frame");
      }
      int arrayEnd = pos + (int) n;
      nest();
      List<Object> out = new ArrayList<>();
      while (pos < arrayEnd) {
        out.add(value(arrayEnd));
      }
      depth--;
      return out;
    }
  }

  /** Builds one frame; {@link #end()} fills in its size and appends the frame-end octet. */
  static final class Writer {
    private final Buffer buf;
    private final int start;
    private int bitsAt = -1;
    private int bitMask;

    private Writer(Buffer buf, int type, int channel) {
      this.buf = buf;
      this.start = buf.length();
      buf.appendByte((byte) type).appendUnsignedShort(channel).appendInt(0);
    }

    static Writer method(Buffer into, int channel, int methodId) {
      Writer w = new Writer(into, FRAME_METHOD, channel);
      into.appendInt(methodId);
      return w;
    }

    Writer octet(int v) {
      bitsAt = -1;
      buf.appendUnsignedByte((short) v);
      return this;
    }

    Writer shortInt(int v) {
      bitsAt = -1;
      buf.appendUnsignedShort(v);
      return this;
    }

    Writer longInt(long v) {
      bitsAt = -1;
      buf.appendUnsignedInt(v);
      return this;
    }

    Writer longLong(long v) {
      bitsAt = -1;
      buf.appendLong(v);
      return this;
    }

    /** Consecutive bits share an octet, the first in its lowest bit. */
    Writer bit(boolean v) {
      if (bitsAt < 0 || bitMask > 0x80) {
        bitsAt = buf.length();
        buf.appendByte((byte) 0);
        bitMask = 1;
      }
      if (v) {
        buf.setByte(bitsAt, (byte) (buf.getByte(bitsAt) | bitMask));
      }
      bitMask <<= 1;
      return this;
    }

    Writer shortStr(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      if (b.length > 255) {
        throw new IllegalArgumentException("short string over 255 bytes: " + s);
      }
      octet(b.length);
      buf.appendBytes(b);
      return this;
    }

    Writer longStr(byte[] b) {
      longInt(b.length);
      buf.appendBytes(b);
      return this;
    }

    /**
     * Writes {@code t} converted as {@link AmqpValues#toTable} converts it, once for all depths.
     */
    Writer table(Map<String, Object> t) {
      return convertedTable(AmqpValues.toTable(t));
    }

    private Writer convertedTable(Map<String, Object> t) {
      bitsAt = -1;
      int sizeAt = buf.length();
      buf.appendInt(0);
      if (t != null) {
        t.forEach(
            (k, v) -> {
              shortStr(k);
              value(v);
            });
      }
      buf.setInt(sizeAt, buf.length() - sizeAt - 4);
      return this;
    }

    @SuppressWarnings("unchecked")
    private void value(Object v) {
      if (v == null) {
        buf.appendByte((byte) 'V');
      } else if (v instanceof String s) {
        buf.appendByte((byte) 'S');
        longStr(s.getBytes(StandardCharsets.UTF_8));
      } else if (v instanceof Integer i) {
        buf.appendByte((byte) 'I').appendInt(i);
      } else if (v instanceof Long l) {
        buf.appendByte((byte) 'l').appendLong(l);
      } else if (v instanceof Boolean b) {
        buf.appendByte((byte) 't').appendByte((byte) (b ? 1 : 0));
      } else if (v instanceof Double d) {
        buf.appendByte((byte) 'd').appendDouble(d);
      } else if (v instanceof List<?> l) {
        buf.appendByte((byte) 'A');
        int sizeAt = buf.length();
        buf.appendInt(0);
        l.forEach(this::value);
        buf.setInt(sizeAt, buf.length() - sizeAt - 4);
      } else if (v instanceof Map<?, ?> m) {
        buf.appendByte((byte) 'F');
        convertedTable((Map<String, Object>) m);
      } else {
        throw new IllegalArgumentException("no field-table type for " + v.getClass());
      }
      bitsAt = -1;
    }

    Buffer end() {
      buf.setInt(start + 3, buf.length() - start - 7);
      buf.appendUnsignedByte((short) FRAME_END);
      return buf;
    }
  }

  /** The method frame of one declaration step (all durable, none passive but the passive one). */
  static Buffer declaration(int channel, AmqpQueues.Step step) {
    Buffer b = Buffer.buffer(128);
    if (step instanceof AmqpQueues.ExchangeDeclare e) {
      return Writer.method(b, channel, EXCHANGE_DECLARE)
          .shortInt(0)
          .shortStr(e.name())
          .shortStr(e.type())
          .bit(false) // passive
          .bit(true) // durable
          .bit(false) // auto-delete
          .bit(false) // internal
          .bit(false) // no-wait
          .table(Map.of())
          .end();
    }
    if (step instanceof AmqpQueues.QueueDeclare q) {
      return queueDeclare(b, channel, q.name(), false, q.arguments());
    }
    if (step instanceof AmqpQueues.QueueDeclarePassive q) {
      return queueDeclare(b, channel, q.name(), true, Map.of());
    }
    if (step instanceof AmqpQueues.QueueBind qb) {
      return Writer.method(b, channel, QUEUE_BIND)
          .shortInt(0)
          .shortStr(qb.queue())
          .shortStr(qb.exchange())
          .shortStr(qb.routingKey())
          .bit(false) // no-wait
          .table(Map.of())
          .end();
    }
    AmqpQueues.ExchangeBind eb = (AmqpQueues.ExchangeBind) step;
    return Writer.method(b, channel, EXCHANGE_BIND)
        .shortInt(0)
        .shortStr(eb.destination())
        .shortStr(eb.source())
        .shortStr(eb.routingKey())
        .bit(false) // no-wait
        .table(Map.of())
        .end();
  }

  /** The reply that confirms a declaration step. */
  static int declarationReply(AmqpQueues.Step step) {
    if (step instanceof AmqpQueues.ExchangeDeclare) {
      return EXCHANGE_DECLARE_OK;
    }
    if (step instanceof AmqpQueues.QueueBind) {
      return QUEUE_BIND_OK;
    }
    if (step instanceof AmqpQueues.ExchangeBind) {
      return EXCHANGE_BIND_OK;
    }
    return QUEUE_DECLARE_OK;
  }

  private static Buffer queueDeclare(
      Buffer b, int channel, String queue, boolean passive, Map<String, Object> arguments) {
    return Writer.method(b, channel, QUEUE_DECLARE)
        .shortInt(0)
        .shortStr(queue)
        .bit(passive)
        .bit(true) // durable
        .bit(false) // exclusive
        .bit(false) // auto-delete
        .bit(false) // no-wait
        .table(arguments)
        .end();
  }

  /** basic.ack as one frame: written per batch of settlements, so built without a Writer. */
  static Buffer ack(Buffer into, int channel, long deliveryTag, boolean multiple) {
    return into.appendByte((byte) FRAME_METHOD)
        .appendUnsignedShort(channel)
        .appendInt(13)
        .appendInt(BASIC_ACK)
        .appendLong(deliveryTag)
        .appendByte((byte) (multiple ? 1 : 0))
        .appendUnsignedByte((short) FRAME_END);
  }

  static Buffer heartbeat() {
    return Buffer.buffer(8)
        .appendByte((byte) FRAME_HEARTBEAT)
        .appendUnsignedShort(0)
        .appendInt(0)
        .appendUnsignedByte((short) FRAME_END);
  }

  /** The properties of a content header that a delivery carries on to the worker. */
  record Properties(
      String contentType,
      String contentEncoding,
      Map<String, Object> headers,
      String correlationId,
      String replyTo,
      Integer priority) {}

  /**
   * Reads a content header's properties (after class id, weight and body size). All fourteen basic
   * properties are read in order, so a header with any of them set parses; the ones a Celery
   * message does not use are skipped.
   */
  static Properties properties(Reader r) {
    int flags = r.shortInt();
    for (int more = flags; (more & 1) != 0; ) {
      more = r.shortInt(); // continuation words: no basic property lives there
    }
    String contentType = (flags & (1 << 15)) != 0 ? r.shortStr() : null;
    String contentEncoding = (flags & (1 << 14)) != 0 ? r.shortStr() : null;
    Map<String, Object> headers = (flags & (1 << 13)) != 0 ? r.table() : null;
    if ((flags & (1 << 12)) != 0) {
      r.octet(); // delivery-mode
    }
    Integer priority = (flags & (1 << 11)) != 0 ? r.octet() : null;
    String correlationId = (flags & (1 << 10)) != 0 ? r.shortStr() : null;
    String replyTo = (flags & (1 << 9)) != 0 ? r.shortStr() : null;
    return new Properties(contentType, contentEncoding, headers, correlationId, replyTo, priority);
  }
}

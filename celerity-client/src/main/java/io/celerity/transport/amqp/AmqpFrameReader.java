package io.celerity.transport.amqp;

import io.vertx.core.buffer.Buffer;

/**
 * Splits an AMQP byte stream, as it arrives from the socket in pieces of any size, into frames. A
 * frame is handed on as a slice of the buffer it arrived in (no copy); only the bytes of a frame
 * still incomplete at the end of a read are kept, to be joined with the next.
 */
final class AmqpFrameReader {

  /** One whole frame: its payload is {@code buf[from, end)}. Returns false to stop reading. */
  interface Frames {
    boolean frame(int type, int channel, Buffer buf, int from, int end);
  }

  private final Frames frames;
  private Buffer pending;
  private int frameMax = 131_072;

  AmqpFrameReader(Frames frames) {
    this.frames = frames;
  }

  /** The largest payload accepted: the negotiated frame_max. */
  void frameMax(int max) {
    frameMax = max;
  }

  /** Bytes held back, waiting for the rest of their frame. */
  int pendingBytes() {
    return pending == null ? 0 : pending.length();
  }

  /**
   * Hands on every whole frame in what has arrived so far.
   *
   * @throws AmqpCodec.FrameException for a frame over frame_max or without its end octet: the
   *     stream cannot be resynchronised, the connection has to go
   */
  void feed(Buffer data) {
    Buffer buf = data;
    if (pending != null) {
      pending.appendBuffer(data);
      buf = pending;
    }
    int pos = 0;
    int len = buf.length();
    boolean go = true;
    while (go && len - pos >= 7) {
      int type = buf.getUnsignedByte(pos);
      int channel = buf.getUnsignedShort(pos + 1);
      long size = buf.getUnsignedInt(pos + 3);
      if (size > frameMax) {
        throw new AmqpCodec.FrameException(
            "frame of " + size + " bytes over frame_max " + frameMax);
      }
      int end = pos + 7 + (int) size;
      if (len < end + 1) {
        break;
      }
      if (buf.getUnsignedByte(end) != AmqpCodec.FRAME_END) {
        throw new AmqpCodec.FrameException("frame without its end octet");
      }
      go = frames.frame(type, channel, buf, pos + 7, end);
      pos = end + 1;
    }
    if (!go || pos >= len) {
      pending = null;
    } else if (pos > 0 || buf != pending) {
      pending = buf.getBuffer(pos, len); // a copy: the start of one frame at most
    }
  }
}

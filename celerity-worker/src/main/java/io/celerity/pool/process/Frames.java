package io.celerity.pool.process;

import com.fasterxml.jackson.core.type.TypeReference;
import io.celerity.protocol.Json;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Map;

/**
 * The child protocol's framing: a 4-byte big-endian length, then that many bytes of UTF-8 JSON (an
 * object with a {@code type}). See docs/process-pool.md.
 */
public final class Frames {

  /** Larger frames are a protocol error (a runaway child), not a message. */
  public static final int MAX_FRAME = 64 * 1024 * 1024;

  private Frames() {}

  public static byte[] encode(Map<String, Object> message) {
    byte[] json = Json.encode(message);
    byte[] out = new byte[4 + json.length];
    out[0] = (byte) (json.length >>> 24);
    out[1] = (byte) (json.length >>> 16);
    out[2] = (byte) (json.length >>> 8);
    out[3] = (byte) json.length;
    System.arraycopy(json, 0, out, 4, json.length);
    return out;
  }

  public static Map<String, Object> decode(byte[] json) throws IOException {
    return Json.MAPPER.readValue(json, new TypeReference<>() {});
  }

  /** A non-blocking parser for the parent's event loop: calls {@code handler} once per frame. */
  public static Reader parser(Handler<byte[]> handler, Handler<Throwable> onError) {
    return parser(handler, onError, () -> MAX_FRAME);
  }

  /**
   * As {@link #parser(Handler, Handler)}, with the largest frame accepted now (the parent accepts
   * only a small {@code hello} from a connection that has not proved who it is).
   */
  public static Reader parser(
      Handler<byte[]> handler,
      Handler<Throwable> onError,
      java.util.function.IntSupplier maxFrame) {
    return new Reader(handler, onError, maxFrame);
  }

  /**
   * The parent's side of one connection. After a bad length it reads nothing more (the stream is
   * out of step: what follows is no frame); {@link #partialSince} tells how long a frame has been
   * incomplete, so that a child stuck half-way through one can be told from a quiet one.
   */
  public static final class Reader implements Handler<Buffer> {
    private final Handler<byte[]> handler;
    private final Handler<Throwable> onError;
    private final java.util.function.IntSupplier max;

    /** Bytes received and not yet part of a whole frame (a copy: the caller may reuse its own). */
    private Buffer rest = Buffer.buffer();

    /** The body length of the frame under way, -1 while its header is awaited. */
    private int length = -1;

    private boolean failed;
    private long partialSince;

    Reader(
        Handler<byte[]> handler, Handler<Throwable> onError, java.util.function.IntSupplier max) {
      this.handler = handler;
      this.onError = onError;
      this.max = max;
    }

    @Override
    public void handle(Buffer data) {
      if (failed) {
        return;
      }
      Buffer buf = rest.length() == 0 ? data : rest.appendBuffer(data);
      int pos = 0;
      int end = buf.length();
      while (true) {
        if (length < 0) {
          if (end - pos < 4) {
            break;
          }
          int len = buf.getInt(pos);
          if (len <= 0 || len > max.getAsInt()) {
            failed = true;
            rest = Buffer.buffer();
            onError.handle(new IOException("bad frame length " + len));
            return;
          }
          length = len;
          pos += 4;
        }
        if (end - pos < length) {
          break;
        }
        byte[] frame = buf.getBytes(pos, pos + length);
        pos += length;
        length = -1;
        handler.handle(frame);
        if (failed) {
          return;
        }
      }
      rest = pos == end ? Buffer.buffer() : buf.getBuffer(pos, end);
      boolean partial = length >= 0 || rest.length() > 0;
      partialSince = !partial ? 0 : partialSince != 0 ? partialSince : System.nanoTime();
    }

    /** Reads nothing more (the connection is being closed). */
    public void stop() {
      failed = true;
    }

    /** System.nanoTime() when the frame now incomplete began to arrive; 0 between frames. */
    public long partialSince() {
      return failed ? 0 : partialSince;
    }
  }

  public static Buffer buffer(Map<String, Object> message) {
    return Buffer.buffer(encode(message));
  }

  /** Blocking read for the child side; null at end of stream. */
  public static Map<String, Object> read(DataInputStream in) throws IOException {
    int len;
    try {
      len = in.readInt();
    } catch (java.io.EOFException eof) {
      return null;
    }
    if (len <= 0 || len > MAX_FRAME) {
      throw new IOException("bad frame length " + len);
    }
    byte[] b = new byte[len];
    in.readFully(b);
    return decode(b);
  }

  /** Blocking write for the child side; callers serialise writers. */
  public static void write(DataOutputStream out, Map<String, Object> message) throws IOException {
    out.write(encode(message));
    out.flush();
  }

  /**
   * Resident set size in KiB from /proc/self/status (VmRSS), as Celery measures it; 0 if unknown.
   */
  public static long rssKib(java.nio.file.Path status) {
    try {
      for (String line : java.nio.file.Files.readAllLines(status)) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return 0;
  }
}

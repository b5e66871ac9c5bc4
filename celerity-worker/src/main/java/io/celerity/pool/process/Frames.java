package io.celerity.pool.process;

import com.fasterxml.jackson.core.type.TypeReference;
import io.celerity.protocol.Json;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;
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
  public static RecordParser parser(Handler<byte[]> handler, Handler<Throwable> onError) {
    return parser(handler, onError, () -> MAX_FRAME);
  }

  /**
   * As {@link #parser(Handler, Handler)}, with the largest frame accepted now (the parent accepts
   * only a small {@code hello} from a connection that has not proved who it is).
   */
  public static RecordParser parser(
      Handler<byte[]> handler,
      Handler<Throwable> onError,
      java.util.function.IntSupplier maxFrame) {
    RecordParser parser = RecordParser.newFixed(4);
    boolean[] header = {true};
    parser.handler(
        buf -> {
          if (header[0]) {
            int len = buf.getInt(0);
            if (len <= 0 || len > maxFrame.getAsInt()) {
              onError.handle(new IOException("bad frame length " + len));
              return;
            }
            header[0] = false;
            parser.fixedSizeMode(len);
          } else {
            header[0] = true;
            parser.fixedSizeMode(4);
            handler.handle(buf.getBytes());
          }
        });
    return parser;
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

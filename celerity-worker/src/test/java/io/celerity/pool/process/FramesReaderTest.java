package io.celerity.pool.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parent's frame reader against what a child may write: split, glued, garbage, truncated. */
class FramesReaderTest {

  private final List<Map<String, Object>> frames = new ArrayList<>();
  private final List<String> errors = new ArrayList<>();
  private final Frames.Reader reader =
      Frames.parser(
          bytes -> {
            try {
              frames.add(Frames.decode(bytes));
            } catch (java.io.IOException e) {
              throw new IllegalStateException(e);
            }
          },
          e -> errors.add(e.getMessage()));

  @Test
  void framesSplitAndGluedAreReadWhole() {
    byte[] a = Frames.encode(Map.of("type", "result", "job", 1));
    byte[] b = Frames.encode(Map.of("type", "result", "job", 2));
    Buffer both = Buffer.buffer().appendBytes(a).appendBytes(b);
    for (int i = 0; i < both.length(); i += 3) { // three bytes at a time, across every boundary
      reader.handle(both.getBuffer(i, Math.min(both.length(), i + 3)));
    }
    assertEquals(List.of(1, 2), frames.stream().map(m -> m.get("job")).toList());
    assertEquals(0, reader.partialSince(), "nothing pending between frames");
    assertTrue(errors.isEmpty(), errors.toString());
  }

  @Test
  void aTruncatedFrameIsPendingUntilItsRestArrives() {
    byte[] a = Frames.encode(Map.of("type", "result", "job", 1));
    reader.handle(Buffer.buffer().appendBytes(a, 0, 2)); // half a header
    assertNotEquals(0, reader.partialSince());
    reader.handle(Buffer.buffer().appendBytes(a, 2, 6)); // header and part of the body
    assertNotEquals(0, reader.partialSince());
    assertTrue(frames.isEmpty());
    reader.handle(Buffer.buffer().appendBytes(a, 8, a.length - 8));
    assertEquals(1, frames.size());
    assertEquals(0, reader.partialSince());
  }

  @Test
  void garbageOrAnOverLongFrameIsOneErrorAndNothingAfterIt() {
    reader.handle(
        Buffer.buffer("Traceback (most recent call last):\n".getBytes(StandardCharsets.UTF_8)));
    reader.handle(Buffer.buffer(Frames.encode(Map.of("type", "result", "job", 1))));
    assertEquals(1, errors.size(), errors.toString());
    assertTrue(errors.get(0).startsWith("bad frame length"), errors.toString());
    assertTrue(frames.isEmpty(), "the stream is out of step: no frame read after the error");
    assertEquals(0, reader.partialSince());
  }

  @Test
  void theLargestFrameAllowedIsAskedEachTime() {
    int[] max = {16};
    Frames.Reader small =
        Frames.parser(bytes -> frames.add(Map.of()), e -> errors.add("x"), () -> max[0]);
    small.handle(
        Buffer.buffer(Frames.encode(Map.of("type", "hello", "token", "0123456789abcdef"))));
    assertEquals(List.of("x"), errors);
    errors.clear();
    max[0] = 1024;
    Frames.Reader larger =
        Frames.parser(bytes -> frames.add(Map.of()), e -> errors.add("x"), () -> max[0]);
    larger.handle(
        Buffer.buffer(Frames.encode(Map.of("type", "hello", "token", "0123456789abcdef"))));
    assertEquals(1, frames.size());
    assertTrue(errors.isEmpty());
  }
}

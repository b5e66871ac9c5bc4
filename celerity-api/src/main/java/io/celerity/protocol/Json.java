package io.celerity.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;

/**
 * The JSON dialect Celery's kombu speaks: Python's {@code json} module, which reads and writes the
 * non-standard {@code NaN}/{@code Infinity} tokens and integers of any size.
 */
public final class Json {

  /**
   * Python's {@code json.loads} has no limit on a string's length and reads integers of up to 4,300
   * digits ({@code sys.int_info.default_max_str_digits}); Jackson's defaults (20 million chars,
   * 1,000 digits) would drop as undecodable a message Celery runs.
   */
  static final StreamReadConstraints PYTHON_READ_LIMITS =
      StreamReadConstraints.builder()
          .maxStringLength(Integer.MAX_VALUE)
          .maxNumberLength(4300)
          .build();

  /** Shared, thread-safe mapper configured like Python's {@code json} with kombu's encoder hook. */
  public static final ObjectMapper MAPPER =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(PYTHON_READ_LIMITS)
                  // Python writes floats with up to 17 digits (repr), e.g. a child's runtime on
                  // every reply: the JDK's parser takes its slow path on those (and C2 kept
                  // recompiling it); FastDoubleParser rounds the same and does not.
                  .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
                  .build())
          .addModule(KombuTypes.module())
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
          .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
          .build();

  /**
   * Python's {@code json.dumps} separators ({@code ", "} and {@code ": "}), as kombu writes task
   * bodies.
   */
  private static final ObjectWriter PYTHON_WRITER =
      MAPPER
          .writer(
              new MinimalPrettyPrinter() {
                @Override
                public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
                  g.writeRaw(": ");
                }

                @Override
                public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
                  g.writeRaw(", ");
                }

                @Override
                public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
                  g.writeRaw(", ");
                }
              })
          .without(JsonWriteFeature.WRITE_HEX_UPPER_CASE); // Python escapes as \u00e9

  private Json() {}

  /**
   * Like {@link #encode}, byte for byte as Python's {@code json.dumps} writes it (kombu's task
   * bodies).
   */
  public static byte[] encodePython(Object value) {
    try {
      return PYTHON_WRITER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "value is not JSON-serialisable: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * Turns a task's return value into plain JSON values (maps, lists, strings, numbers, booleans,
   * null), so that encoding it later cannot fail. Runs on the pool thread, off the event loop.
   *
   * @throws IllegalArgumentException when the value cannot be represented in JSON
   */
  public static Object toJsonValue(Object value) {
    if (value == null
        || value instanceof String
        || value instanceof Number
        || value instanceof Boolean) {
      return value;
    }
    return MAPPER.convertValue(value, Object.class);
  }

  /**
   * Documents from this size on are read by {@link LargeJsonReader}: the same values, without
   * Jackson's three copies of each long string.
   */
  static final int LARGE_DOCUMENT_BYTES = 64 * 1024;

  public static Object parse(byte[] bytes) throws IOException {
    if (bytes.length >= LARGE_DOCUMENT_BYTES) {
      return LargeJsonReader.read(bytes);
    }
    return MAPPER.readValue(bytes, Object.class);
  }

  public static Object parse(String text) throws IOException {
    return MAPPER.readValue(text, Object.class);
  }

  public static byte[] encode(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "value is not JSON-serialisable: " + e.getOriginalMessage(), e);
    }
  }

  public static String encodeToString(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "value is not JSON-serialisable: " + e.getOriginalMessage(), e);
    }
  }
}

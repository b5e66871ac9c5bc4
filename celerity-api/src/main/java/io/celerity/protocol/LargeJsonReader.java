package io.celerity.protocol;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.JsonTokenId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a large JSON document into the same values as {@code MAPPER.readValue(bytes, Object.class)}
 * (maps, lists, strings, the smallest fitting integer type, doubles, booleans, null), with one
 * difference in cost: a string of plain ASCII without escapes, as a large argument or a Redis
 * envelope's base64 body is, becomes a {@link String} straight from the document's bytes. Jackson
 * decodes it into segments of chars, joins them in a builder and copies that into the string: four
 * to five bytes allocated per byte of a 1 MB argument, most of a large task's garbage. Strings with
 * escapes or non-ASCII bytes go through Jackson as before.
 */
final class LargeJsonReader {

  private LargeJsonReader() {}

  /**
   * @throws IOException as Jackson would for the same bytes (a malformed document is read again by
   *     the mapper, so its error is the mapper's)
   */
  static Object read(byte[] bytes) throws IOException {
    try (JsonParser p = Json.MAPPER.createParser(bytes)) {
      if (p.nextToken() == null) {
        return Json.MAPPER.readValue(bytes, Object.class); // no content: the mapper's error
      }
      return value(p, bytes);
    } catch (IOException | RuntimeException e) {
      return Json.MAPPER.readValue(bytes, Object.class);
    }
  }

  private static Object value(JsonParser p, byte[] bytes) throws IOException {
    switch (p.currentTokenId()) {
      case JsonTokenId.ID_START_OBJECT:
        {
          Map<String, Object> map = new LinkedHashMap<>();
          for (String key = p.nextFieldName(); key != null; key = p.nextFieldName()) {
            p.nextToken();
            map.put(key, value(p, bytes));
          }
          return map;
        }
      case JsonTokenId.ID_START_ARRAY:
        {
          List<Object> list = new ArrayList<>();
          while (p.nextToken() != JsonToken.END_ARRAY) {
            list.add(value(p, bytes));
          }
          return list;
        }
      case JsonTokenId.ID_STRING:
        return string(p, bytes);
      case JsonTokenId.ID_NUMBER_INT:
        return p.getNumberValue();
      case JsonTokenId.ID_NUMBER_FLOAT:
        return p.getDoubleValue();
      case JsonTokenId.ID_TRUE:
        return Boolean.TRUE;
      case JsonTokenId.ID_FALSE:
        return Boolean.FALSE;
      case JsonTokenId.ID_NULL:
        return null;
      default:
        throw new IOException("unexpected token " + p.currentToken());
    }
  }

  /**
   * The string token's value from the bytes when it is plain ASCII, else Jackson's. Left unread,
   * Jackson skips the token without decoding it.
   */
  private static String string(JsonParser p, byte[] bytes) throws IOException {
    long at = p.currentTokenLocation().getByteOffset();
    if (at < 0 || at >= bytes.length || bytes[(int) at] != '"') {
      return p.getText();
    }
    int start = (int) at + 1;
    for (int i = start; i < bytes.length; i++) {
      byte b = bytes[i];
      if (b == '"') {
        return new String(bytes, start, i - start, StandardCharsets.ISO_8859_1);
      }
      // control characters (an error), escapes and UTF-8 sequences (negative bytes): Jackson's
      if (b < 0x20 || b == '\\') {
        return p.getText();
      }
    }
    return p.getText();
  }
}

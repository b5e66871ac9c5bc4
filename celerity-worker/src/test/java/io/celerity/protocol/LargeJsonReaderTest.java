package io.celerity.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Large documents read without Jackson's string copies must give exactly the mapper's values. */
class LargeJsonReaderTest {

  private static final String PAD = "x".repeat(Json.LARGE_DOCUMENT_BYTES);

  @Test
  void aLargeArgumentIsReadAsTheMapperReadsIt() throws IOException {
    String big = "abc/+=".repeat(200_000);
    String body =
        "[[\""
            + big
            + "\", 1], {\"k\": \"v\"}, {\"callbacks\": null, \"errbacks\": null, \"chain\": null,"
            + " \"chord\": null}]";
    Object read = sameAsMapper(body);
    assertEquals(big, ((List<?>) ((List<?>) read).get(0)).get(0));
  }

  @Test
  void stringsWithEscapesOrNonAsciiAreJacksonsOwn() throws IOException {
    for (String s :
        List.of(
            "\"quote \\\" inside\"",
            "\"back\\\\slash\"",
            "\"line\\nbreak\\ttab\"",
            "\"\\u00e9t\\u00e9\"",
            "\"\\ud83d\\ude00 surrogate pair\"",
            "\"été 日本 raw UTF-8\"",
            "\"\\/ escaped slash\"",
            "\"\"")) {
      sameAsMapper("{\"pad\": \"" + PAD + "\", \"s\": " + s + ", \"after\": [" + s + ", 1]}");
    }
  }

  @Test
  void numbersKeepTheMappersTypes() throws IOException {
    sameAsMapper(
        "[\""
            + PAD
            + "\", 0, -1, 2147483647, 2147483648, -2147483649, 9223372036854775807,"
            + " 9223372036854775808, -9223372036854775809, "
            + "1".repeat(300)
            + ", 1.5, -0.0, 1E10, 2.5e-3, 1e400, NaN, Infinity, -Infinity, true, false, null]");
  }

  @Test
  void structuresDuplicateKeysAndTopLevelScalars() throws IOException {
    sameAsMapper("{\"a\": 1, \"a\": \"" + PAD + "\", \"b\": {}, \"c\": [], \"d\": [[{}]]}");
    sameAsMapper("\"" + PAD + "\"");
    sameAsMapper("  [\"" + PAD + "\"]   ");
    sameAsMapper("[\"" + PAD + "\"] trailing");
  }

  @Test
  void smallDocumentsReadTheSameThroughTheReaderToo() throws IOException {
    for (String doc : List.of("1", "null", "[]", "{\"a\": [1, 2.0, \"s\"]}", "\"\\u00e9\"")) {
      assertSameValue(
          Json.MAPPER.readValue(doc, Object.class),
          LargeJsonReader.read(doc.getBytes(StandardCharsets.UTF_8)),
          doc);
    }
  }

  @Test
  void malformedDocumentsFailAsTheMapperFails() {
    List<byte[]> bad = new ArrayList<>();
    bad.add(("[\"" + PAD).getBytes(StandardCharsets.UTF_8)); // unterminated string
    bad.add(("[\"" + PAD + "\", ").getBytes(StandardCharsets.UTF_8)); // truncated
    bad.add(("[\"" + PAD + "\u0001\"]").getBytes(StandardCharsets.UTF_8)); // raw control char
    bad.add(("{\"a\": \"" + PAD + "\" \"b\": 1}").getBytes(StandardCharsets.UTF_8));
    byte[] invalidUtf8 = ("[\"" + PAD + "??\"]").getBytes(StandardCharsets.US_ASCII);
    invalidUtf8[invalidUtf8.length - 4] = (byte) 0xc3;
    invalidUtf8[invalidUtf8.length - 3] = (byte) 0x28;
    bad.add(invalidUtf8);
    bad.add(new byte[0]);
    for (byte[] doc : bad) {
      IOException mapper =
          assertThrows(IOException.class, () -> Json.MAPPER.readValue(doc, Object.class));
      IOException reader = assertThrows(IOException.class, () -> LargeJsonReader.read(doc));
      assertEquals(mapper.getClass(), reader.getClass());
      assertEquals(mapper.getMessage(), reader.getMessage());
    }
  }

  @Test
  void randomDocumentsReadTheSame() throws IOException {
    ObjectMapper rawUtf8 = JsonMapper.builder().build(); // writes non-ASCII as UTF-8, not escapes
    Random random = new Random(18);
    for (int i = 0; i < 300; i++) {
      Object doc =
          java.util.Arrays.asList(PAD.substring(random.nextInt(64)), randomValue(random, 0));
      byte[] escaped = Json.encode(doc);
      assertSameValue(
          Json.MAPPER.readValue(escaped, Object.class), Json.parse(escaped), "doc " + i);
      byte[] utf8 = rawUtf8.writeValueAsBytes(doc);
      assertSameValue(Json.MAPPER.readValue(utf8, Object.class), Json.parse(utf8), "doc " + i);
    }
  }

  private static Object randomValue(Random r, int depth) {
    int kind = depth > 4 ? r.nextInt(5) : r.nextInt(7);
    switch (kind) {
      case 0:
        return randomString(r);
      case 1:
        return r.nextBoolean() ? r.nextInt() : r.nextLong();
      case 2:
        return r.nextBoolean() ? r.nextDouble() * 1e6 : (double) r.nextInt(1000);
      case 3:
        return r.nextBoolean() ? null : r.nextBoolean();
      case 4:
        return new java.math.BigInteger(100, r);
      case 5:
        {
          Map<String, Object> m = new LinkedHashMap<>();
          for (int i = r.nextInt(4); i > 0; i--) {
            m.put(randomString(r), randomValue(r, depth + 1));
          }
          return m;
        }
      default:
        {
          List<Object> l = new ArrayList<>();
          for (int i = r.nextInt(4); i > 0; i--) {
            l.add(randomValue(r, depth + 1));
          }
          return l;
        }
    }
  }

  private static String randomString(Random r) {
    String alphabet = "abcXYZ019 /+=\"\\\n\té€日😀\u0000\u001f";
    StringBuilder b = new StringBuilder();
    for (int i = r.nextInt(40); i > 0; i--) {
      // mostly plain ASCII, as arguments usually are
      b.append(r.nextInt(4) > 0 ? 'a' : alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return b.toString().replace("\ud83d", "").replace("\ude00", "");
  }

  private static Object sameAsMapper(String doc) throws IOException {
    byte[] bytes = doc.getBytes(StandardCharsets.UTF_8);
    assertTrue(bytes.length >= Json.LARGE_DOCUMENT_BYTES, "the document takes the reader's path");
    Object expected = Json.MAPPER.readValue(bytes, Object.class);
    Object read = Json.parse(bytes);
    assertSameValue(expected, read, "document");
    return read;
  }

  /** Equal and of the same classes all the way down (Integer is not Long here). */
  private static void assertSameValue(Object expected, Object actual, String where) {
    if (expected == null || actual == null) {
      assertEquals(expected, actual, where);
      return;
    }
    assertEquals(expected.getClass(), actual.getClass(), where + ": class");
    if (expected instanceof Map<?, ?> em) {
      Map<?, ?> am = (Map<?, ?>) actual;
      assertEquals(List.copyOf(em.keySet()), List.copyOf(am.keySet()), where + ": keys in order");
      for (Map.Entry<?, ?> e : em.entrySet()) {
        assertSameValue(e.getValue(), am.get(e.getKey()), where + "." + e.getKey());
      }
    } else if (expected instanceof List<?> el) {
      List<?> al = (List<?>) actual;
      assertEquals(el.size(), al.size(), where + ": size");
      for (int i = 0; i < el.size(); i++) {
        assertSameValue(el.get(i), al.get(i), where + "[" + i + "]");
      }
    } else if (!expected.equals(actual)) {
      fail(where + ": values differ (" + expected.getClass().getSimpleName() + ")");
    }
  }
}

package io.celerity.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PyReprTest {

  @Test
  void tupleOfOneHasTrailingComma() {
    assertEquals("(2,)", PyRepr.tuple(List.of(2)));
  }

  @Test
  void tuplesAsCeleryClientsWriteArgsrepr() {
    assertEquals("()", PyRepr.tuple(List.of()));
    assertEquals("(2, 2)", PyRepr.tuple(List.of(2, 2)));
    assertEquals(
        "('h\u00e9llo w\u00f6rld \u2713',)", PyRepr.tuple(List.of("h\u00e9llo w\u00f6rld \u2713")));
    assertEquals(
        "(1180591620717411303424, nan, inf, -inf)",
        PyRepr.tuple(
            List.of(
                BigInteger.TWO.pow(70),
                Double.NaN,
                Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY)));
    assertEquals("([1, 2], {'a': None})", PyRepr.tuple(List.of(List.of(1, 2), mapOf("a", null))));
  }

  @Test
  void dictKeepsOrder() {
    assertEquals("{}", PyRepr.dict(Map.of()));
    assertEquals("{'x': 1, 'y': 2}", PyRepr.dict(mapOf("x", 1, "y", 2)));
    assertEquals("{'y': 2, 'x': 1}", PyRepr.dict(mapOf("y", 2, "x", 1)));
  }

  @Test
  void noneTrueFalse() {
    assertEquals("None", PyRepr.of(null));
    assertEquals("True", PyRepr.of(true));
    assertEquals("False", PyRepr.of(false));
    assertEquals("(None, True, False)", PyRepr.tuple(Arrays.asList(null, true, false)));
  }

  @Test
  void numbers() {
    assertEquals("42", PyRepr.of(42));
    assertEquals("2.5", PyRepr.of(2.5));
    assertEquals("-7", PyRepr.of(-7L));
  }

  @Test
  void stringsAreSingleQuotedWithBackslashesEscaped() {
    assertEquals("'plain'", PyRepr.of("plain"));
    assertEquals("'say \"hi\"'", PyRepr.of("say \"hi\""));
    assertEquals("'C:\\\\temp'", PyRepr.of("C:\\temp"));
  }

  /** Python: repr("it's") == "\"it's\"" -- a single quote switches to double quotes. */
  @Test
  void stringWithSingleQuoteUsesDoubleQuotesLikePython() {
    assertEquals("\"it's\"", PyRepr.of("it's"));
  }

  /** Python: both quote kinds present -> single quotes, the single one escaped. */
  @Test
  void stringWithBothQuotesEscapesTheSingleOne() {
    assertEquals("'it\\'s \"x\"'", PyRepr.of("it's \"x\""));
  }

  /**
   * Python: repr("a\nb") == "'a\\nb'" -- control characters are escaped, the repr stays one line.
   */
  @Test
  void controlCharactersAreEscapedLikePython() {
    assertEquals("'a\\nb\\tc'", PyRepr.of("a\nb\tc"));
  }

  @Test
  void aHugeStringIsReprdAsPythonWouldThenTruncated() {
    // Python picks the quotes from the whole string, also from what the cut drops
    String tail = "x".repeat(1_000_000) + "\"";
    assertEquals("'\\'ab" + "x".repeat(1016) + "...", PyRepr.of("'ab" + tail));
    assertEquals("\"'ab" + "x".repeat(1017) + "...", PyRepr.of("'ab" + "x".repeat(1_000_000)));
  }

  @Test
  void longReprIsTruncatedTo1024Characters() {
    List<Object> many = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      many.add(i);
    }
    String r = PyRepr.tuple(many);
    assertEquals(1024, r.length());
    assertTrue(r.startsWith("(0, 1, 2, 3, "), r.substring(0, 20));
    assertTrue(r.endsWith("..."), r.substring(1000));

    String s = PyRepr.of("x".repeat(5000));
    assertEquals(1024, s.length());
    assertTrue(s.startsWith("'xxx"));
    assertTrue(s.endsWith("..."));

    Map<String, Object> big = new LinkedHashMap<>();
    for (int i = 0; i < 500; i++) {
      big.put("k" + i, i);
    }
    String d = PyRepr.dict(big);
    assertEquals(1024, d.length());
    assertTrue(d.startsWith("{'k0': 0, 'k1': 1"));
  }

  @Test
  void reprOfExactly1024CharactersIsNotTruncated() {
    String value = "y".repeat(1022); // plus two quotes = 1024
    assertEquals("'" + value + "'", PyRepr.of(value));
  }

  private static Map<String, Object> mapOf(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }
}

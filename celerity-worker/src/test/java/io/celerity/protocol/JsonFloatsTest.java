package io.celerity.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.StreamReadFeature;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Floats as Python writes them ({@code repr}: up to 17 significant digits) read to the same double
 * as the JDK's own parser gives, by the mapper and by the large-document reader.
 */
class JsonFloatsTest {

  private static final List<String> EDGES =
      List.of(
          "0.1",
          "-0.0",
          "1e-400",
          "1e400",
          "-1e400",
          "4.9e-324",
          "5e-324",
          "2.2250738585072014e-308",
          "2.225073858507201e-308",
          "1.7976931348623157e+308",
          "1.7976931348623158e+308",
          "0.30000000000000004",
          "9007199254740993.0",
          "123456789012345678901234567890.5",
          "0.0012345678901234567",
          "1E+22",
          "1e23");

  @Test
  void pythonFloatsReadAsTheJdkReadsThem() throws Exception {
    assertTrue(
        Json.MAPPER.getFactory().isEnabled(StreamReadFeature.USE_FAST_DOUBLE_PARSER),
        "the fast parser is the one compared here");
    List<String> texts = new ArrayList<>(EDGES);
    Random random = new Random(18);
    for (int i = 0; i < 2000; i++) {
      double d =
          switch (i % 4) {
            case 0 -> random.nextDouble();
            case 1 -> Double.longBitsToDouble(random.nextLong()); // any exponent, subnormals
            case 2 -> random.nextDouble() * Math.pow(10, random.nextInt(40) - 20);
            default -> random.nextGaussian() * 1e-3; // a runtime in seconds
          };
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        continue;
      }
      texts.add(String.format(Locale.ROOT, "%.16e", d)); // 17 significant digits, as repr may
      texts.add(Double.toString(d));
    }
    String doc = "[" + String.join(", ", texts) + "]";
    List<?> small = (List<?>) Json.parse(doc);
    // padded past the large-document threshold, so the other reader reads the same numbers
    String padded = "[" + String.join(", ", texts) + ", \"" + "x".repeat(70_000) + "\"]";
    List<?> large = (List<?>) Json.parse(padded.getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < texts.size(); i++) {
      double expected = Double.parseDouble(texts.get(i));
      assertEquals(expected, ((Number) small.get(i)).doubleValue(), texts.get(i));
      assertEquals(expected, ((Number) large.get(i)).doubleValue(), texts.get(i));
    }
  }
}

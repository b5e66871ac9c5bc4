package io.celerity.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IsoTimeTest {

  private static final Instant T = Instant.parse("2026-11-23T19:44:06.023747Z");

  @Test
  void zuluSuffix() {
    assertEquals(T, IsoTime.parse("2026-11-23T19:44:06.023747Z"));
    assertEquals(Instant.parse("2024-01-02T03:04:05Z"), IsoTime.parse("2024-01-02T03:04:05Z"));
  }

  @Test
  void explicitUtcOffset() {
    assertEquals(T, IsoTime.parse("2026-11-23T19:44:06.023747+00:00"));
  }

  @Test
  void positiveAndNegativeOffsetsAreConvertedToUtc() {
    assertEquals(T, IsoTime.parse("2026-11-23T21:44:06.023747+02:00"));
    assertEquals(T, IsoTime.parse("2026-11-23T14:44:06.023747-05:00"));
  }

  @Test
  void naiveTimeIsUtc() {
    assertEquals(T, IsoTime.parse("2026-11-23T19:44:06.023747"));
    assertEquals(Instant.parse("2024-01-02T00:00:00Z"), IsoTime.parse("2024-01-02T00:00:00"));
  }

  @Test
  void surroundingWhitespaceIsIgnored() {
    assertEquals(T, IsoTime.parse(" 2026-11-23T19:44:06.023747+00:00 "));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "garbage",
        "2026-13-01T00:00:00",
        "2026-11-23 19:44",
        "tomorrow+01:00",
        "12345"
      })
  void garbageIsRejected(String text) {
    assertThrows(IllegalArgumentException.class, () -> IsoTime.parse(text));
  }

  @Test
  void naiveUtcAlwaysWritesSixFractionDigitsAndNoOffset() {
    assertEquals(
        "2026-11-23T19:43:56.351488",
        IsoTime.naiveUtc(Instant.parse("2026-11-23T19:43:56.351488Z")));
    assertEquals(
        "2026-11-23T19:43:56.000000", IsoTime.naiveUtc(Instant.parse("2026-11-23T19:43:56Z")));
    assertEquals(
        "2026-11-23T19:43:56.500000", IsoTime.naiveUtc(Instant.parse("2026-11-23T19:43:56.5Z")));
    // nanoseconds are truncated, never rounded up into a 7th digit
    assertEquals(
        "2026-11-23T19:43:56.999999",
        IsoTime.naiveUtc(Instant.parse("2026-11-23T19:43:56.999999999Z")));
  }

  @Test
  void naiveUtcWritesWhatThePatternFormatterWrites() {
    java.time.format.DateTimeFormatter pattern =
        java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS");
    java.util.Random random = new java.util.Random(19);
    long min = Instant.parse("0001-01-01T00:00:00Z").getEpochSecond();
    long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
    for (int i = 0; i < 10_000; i++) {
      Instant t =
          Instant.ofEpochSecond(
              min + (long) (random.nextDouble() * (max - min)), random.nextInt(1_000_000_000));
      assertEquals(
          pattern.format(
              java.time.LocalDateTime.ofInstant(
                  t.truncatedTo(java.time.temporal.ChronoUnit.MICROS), java.time.ZoneOffset.UTC)),
          IsoTime.naiveUtc(t),
          t.toString());
    }
    assertEquals(
        "0005-03-04T05:06:07.000008",
        IsoTime.naiveUtc(Instant.parse("0005-03-04T05:06:07.000008Z")));
  }

  @Test
  void utcAppendsExplicitOffset() {
    assertEquals("2026-11-23T19:44:06.023747+00:00", IsoTime.utc(T));
    assertEquals(
        "2026-01-01T00:00:00.000000+00:00", IsoTime.utc(Instant.parse("2026-01-01T00:00:00Z")));
  }

  @Test
  void writtenTimesParseBack() {
    Instant micros = Instant.parse("2030-06-15T08:09:10.123456Z");
    assertEquals(micros, IsoTime.parse(IsoTime.utc(micros)));
    assertEquals(micros, IsoTime.parse(IsoTime.naiveUtc(micros)));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "+292278995-01-01T00:00:00",
        "+10000-01-01T00:00:00+00:00",
        "-0001-12-31T00:00:00Z"
      })
  void datesPythonCannotHoldAreRejected(String text) {
    // Java's parser takes them; their epoch millis overflow in the ETA timer (a poison message)
    assertThrows(IllegalArgumentException.class, () -> IsoTime.parse(text));
  }

  @Test
  void pythonsLastDateIsStillADate() {
    assertEquals(Instant.parse("9999-12-31T23:59:59Z"), IsoTime.parse("9999-12-31T23:59:59"));
  }
}

package io.celerity.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Java results reach Python as kombu would have encoded the Python equivalents (wire doc 1.6). */
class KombuTypesTest {

  @Test
  void datesAndTimesAsKombuWritesThem() {
    assertEquals(
        "\"2024-01-02T03:04:05Z\"", Json.encodeToString(Instant.parse("2024-01-02T03:04:05Z")));
    assertEquals(
        "\"2024-01-02T03:04:05.000123Z\"",
        Json.encodeToString(Instant.parse("2024-01-02T03:04:05.000123Z")));
    assertEquals(
        "\"2024-01-02T03:04:05+02:00\"",
        Json.encodeToString(OffsetDateTime.of(2024, 1, 2, 3, 4, 5, 0, ZoneOffset.ofHours(2))));
    assertEquals(
        "\"2024-01-02T03:04:05\"", Json.encodeToString(LocalDateTime.of(2024, 1, 2, 3, 4, 5)));
    assertEquals("\"2024-01-02T00:00:00\"", Json.encodeToString(LocalDate.of(2024, 1, 2)));
    assertEquals("\"01:02:03\"", Json.encodeToString(LocalTime.of(1, 2, 3)));
  }

  @Test
  void decimalAndUuidAsStrings() {
    assertEquals("\"1.10\"", Json.encodeToString(new BigDecimal("1.10")));
    assertEquals(
        "\"12345678-1234-5678-1234-567812345678\"",
        Json.encodeToString(UUID.fromString("12345678-1234-5678-1234-567812345678")));
  }

  record Point(int x, int y) {}

  @Test
  void resultsBecomePlainJsonValues() {
    assertEquals(Map.of("x", 1, "y", 2), Json.toJsonValue(new Point(1, 2)));
    assertEquals(
        List.of("2024-01-02T00:00:00"), Json.toJsonValue(List.of(LocalDate.of(2024, 1, 2))));
    assertEquals(Double.NaN, (Double) Json.toJsonValue(Double.NaN));
  }

  static final class Loop {
    public Loop getSelf() {
      return this;
    }
  }

  @Test
  void unserialisableResultIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> Json.toJsonValue(new Loop()));
  }
}

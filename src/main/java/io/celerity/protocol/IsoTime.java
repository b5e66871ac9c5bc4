package io.celerity.protocol;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/**
 * ISO-8601 times as Celery reads and writes them. Celery parses the fraction as an integer number
 * of microseconds, so anything written here carries exactly six fractional digits.
 */
public final class IsoTime {

  private static final DateTimeFormatter NAIVE_MICROS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS");

  private IsoTime() {
  }

  /**
   * Parses an {@code eta}/{@code expires} value. A value without an offset is taken as UTC (Celery's
   * default {@code timezone}).
   *
   * @throws IllegalArgumentException when the text is not an ISO-8601 date-time
   */
  public static Instant parse(String text) {
    String s = text.trim();
    try {
      if (s.endsWith("Z") || s.endsWith("z")) {
        return OffsetDateTime.parse(s.substring(0, s.length() - 1) + "+00:00").toInstant();
      }
      if (hasOffset(s)) {
        return OffsetDateTime.parse(s).toInstant();
      }
      return LocalDateTime.parse(s).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("not an ISO-8601 date-time: " + text, e);
    }
  }

  private static boolean hasOffset(String s) {
    int t = s.indexOf('T');
    if (t < 0) {
      return false;
    }
    String time = s.substring(t + 1);
    return time.indexOf('+') >= 0 || time.indexOf('-') >= 0;
  }

  /** Naive UTC with six fractional digits, as Celery's {@code date_done}. */
  public static String naiveUtc(Instant instant) {
    return NAIVE_MICROS.format(LocalDateTime.ofInstant(instant.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC));
  }

  /** UTC with six fractional digits and an explicit {@code +00:00}, for {@code eta}/{@code expires}. */
  public static String utc(Instant instant) {
    return naiveUtc(instant) + "+00:00";
  }
}

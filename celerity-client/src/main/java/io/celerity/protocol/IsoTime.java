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

  /** Python's {@code datetime.min} and {@code datetime.max}. */
  private static final Instant MIN = Instant.parse("0001-01-01T00:00:00Z");

  private static final Instant MAX = Instant.parse("9999-12-31T23:59:59.999999Z");
  private static final DateTimeFormatter NAIVE_MICROS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS");

  private IsoTime() {}

  /**
   * Parses an {@code eta}/{@code expires} value. A value without an offset is taken as UTC
   * (Celery's default {@code timezone}).
   *
   * @throws IllegalArgumentException when the text is not an ISO-8601 date-time
   */
  public static Instant parse(String text) {
    String s = text.trim();
    Instant t;
    try {
      if (s.endsWith("Z") || s.endsWith("z")) {
        t = OffsetDateTime.parse(s.substring(0, s.length() - 1) + "+00:00").toInstant();
      } else if (hasOffset(s)) {
        t = OffsetDateTime.parse(s).toInstant();
      } else {
        t = LocalDateTime.parse(s).toInstant(ZoneOffset.UTC);
      }
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("not an ISO-8601 date-time: " + text, e);
    }
    // Python's datetime (what Celery parses into) ends at year 9999; later dates are not times
    // Celery could have written, and their epoch millis overflow.
    if (t.isBefore(MIN) || t.isAfter(MAX)) {
      throw new IllegalArgumentException("date-time out of range (years 1 to 9999): " + text);
    }
    return t;
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
    LocalDateTime t =
        LocalDateTime.ofEpochSecond(instant.getEpochSecond(), instant.getNano(), ZoneOffset.UTC);
    int year = t.getYear();
    if (year < 1 || year > 9999) {
      return NAIVE_MICROS.format(t.truncatedTo(ChronoUnit.MICROS));
    }
    // by hand: the formatter cost more than the rest of a result document (one per task)
    char[] c = new char[26];
    digits(c, 0, year, 4);
    c[4] = '-';
    digits(c, 5, t.getMonthValue(), 2);
    c[7] = '-';
    digits(c, 8, t.getDayOfMonth(), 2);
    c[10] = 'T';
    digits(c, 11, t.getHour(), 2);
    c[13] = ':';
    digits(c, 14, t.getMinute(), 2);
    c[16] = ':';
    digits(c, 17, t.getSecond(), 2);
    c[19] = '.';
    digits(c, 20, t.getNano() / 1000, 6);
    return new String(c);
  }

  private static void digits(char[] c, int at, int value, int width) {
    for (int i = at + width - 1; i >= at; i--) {
      c[i] = (char) ('0' + value % 10);
      value /= 10;
    }
  }

  /**
   * UTC with six fractional digits and an explicit {@code +00:00}, for {@code eta}/{@code expires}.
   */
  public static String utc(Instant instant) {
    return naiveUtc(instant) + "+00:00";
  }
}

package io.celerity.consumer;

/**
 * Celery's rate limit: a token bucket of capacity one refilled at {@code rate} tokens per second
 * (kombu's {@code TokenBucket}). Time is passed in, so it is testable without a clock.
 */
public final class TokenBucket {

  private final double rate;
  private final double capacity;
  private double tokens;
  private long lastNanos;

  public TokenBucket(double ratePerSecond, long nowNanos) {
    this.rate = ratePerSecond;
    this.capacity = 1;
    this.tokens = 1;
    this.lastNanos = nowNanos;
  }

  /** Takes a token if one is available. */
  public boolean tryTake(long nowNanos) {
    refill(nowNanos);
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }

  /** Nanoseconds until the next token is available (0 if one is). */
  public long nanosUntilToken(long nowNanos) {
    refill(nowNanos);
    return tokens >= 1 ? 0 : (long) Math.ceil((1 - tokens) / rate * 1e9);
  }

  private void refill(long nowNanos) {
    tokens = Math.min(capacity, tokens + (nowNanos - lastNanos) / 1e9 * rate);
    lastNanos = nowNanos;
  }

  public double rate() {
    return rate;
  }

  /**
   * Parses Celery's rate limit strings: {@code "10/s"}, {@code "100/m"}, {@code "1000/h"}, or a
   * plain number (per second). Returns tokens per second, 0 meaning no limit.
   *
   * @throws IllegalArgumentException for anything else, with Celery's message
   */
  public static double parseRate(Object limit) {
    if (limit == null) {
      return 0;
    }
    if (limit instanceof Number n) {
      return n.doubleValue();
    }
    String s = limit.toString().trim();
    if (s.isEmpty()) {
      return 0;
    }
    try {
      int slash = s.indexOf('/');
      if (slash < 0) {
        return Double.parseDouble(s);
      }
      double n = Double.parseDouble(s.substring(0, slash));
      String unit = s.substring(slash + 1).trim();
      return switch (unit.isEmpty() ? 's' : unit.charAt(0)) {
        case 's' -> n;
        case 'm' -> n / 60;
        case 'h' -> n / 3600;
        default -> throw new IllegalArgumentException("Invalid rate limit string: " + s);
      };
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("Invalid rate limit string: " + s, e);
    }
  }
}

package io.celerity.protocol;

import java.util.List;
import java.util.Map;

/**
 * Python {@code repr()} of JSON values, for {@code argsrepr}/{@code kwargsrepr} and log lines
 * (truncated like Celery's).
 */
public final class PyRepr {

  private static final int MAX = 1024;

  private PyRepr() {}

  /** A value already rendered by Python ({@code saferepr} in a Python child): printed as it is. */
  public record Repr(String text) {
    @Override
    public String toString() {
      return text;
    }
  }

  public static String tuple(List<Object> args) {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < args.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      append(sb, args.get(i));
    }
    if (args.size() == 1) {
      sb.append(',');
    }
    return truncate(sb.append(')'));
  }

  public static String dict(Map<String, Object> kwargs) {
    StringBuilder sb = new StringBuilder();
    append(sb, kwargs);
    return truncate(sb);
  }

  public static String of(Object value) {
    StringBuilder sb = new StringBuilder();
    append(sb, value);
    return truncate(sb);
  }

  private static String truncate(StringBuilder sb) {
    return sb.length() > MAX ? sb.substring(0, MAX - 3) + "..." : sb.toString();
  }

  /**
   * Python's str repr: single quotes unless the text has ' and no ", control characters escaped.
   */
  private static void appendString(StringBuilder sb, String s) {
    char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    sb.append(quote);
    // Only what survives the truncation is escaped: a 1 MB argument costs 1 KB here, not 1 MB.
    for (int i = 0; i < s.length() && sb.length() <= MAX; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c == quote) {
            sb.append('\\').append(c);
          } else if (c < 0x20 || c == 0x7f) {
            sb.append(String.format("\\x%02x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append(quote);
  }

  private static void append(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("None");
    } else if (v instanceof Boolean b) {
      sb.append(b ? "True" : "False");
    } else if (v instanceof String s) {
      appendString(sb, s);
    } else if (v instanceof List<?> l) {
      sb.append('[');
      for (int i = 0; i < l.size() && sb.length() < MAX; i++) {
        if (i > 0) {
          sb.append(", ");
        }
        append(sb, l.get(i));
      }
      sb.append(']');
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (sb.length() >= MAX) {
          break;
        }
        if (!first) {
          sb.append(", ");
        }
        first = false;
        append(sb, e.getKey());
        sb.append(": ");
        append(sb, e.getValue());
      }
      sb.append('}');
    } else if (v instanceof Repr r) {
      sb.append(r.text());
    } else if (v instanceof Double d && (d.isNaN() || d.isInfinite())) {
      sb.append(d.isNaN() ? "nan" : d > 0 ? "inf" : "-inf");
    } else {
      sb.append(v);
    }
  }
}

package io.celerity.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * How a setting's value is read from JSON (worker.json, a deployment's config) and from text (a
 * {@code CELERITY_*} variable, a command-line flag), and written back as JSON ({@code inspect
 * conf}). Readers are strict: a value of another type is refused with {@link #expected()}, never
 * coerced.
 *
 * @param expected what a value must be, for error messages ("a whole number")
 */
public record SettingType<T>(
    String expected,
    Function<Object, T> json,
    Function<String, T> text,
    Function<T, Object> toJson) {

  /** Thrown by the readers; {@link Settings} adds the key and the source. */
  static final class Mismatch extends RuntimeException {
    Mismatch(String detail) {
      super(detail, null, false, false);
    }
  }

  public static final SettingType<String> TEXT =
      new SettingType<>("text", v -> v instanceof String s ? s : mismatch(), s -> s, s -> s);

  public static final SettingType<Boolean> BOOLEAN =
      new SettingType<>(
          "true or false", v -> v instanceof Boolean b ? b : mismatch(), SettingType::bool, b -> b);

  public static final SettingType<Integer> INT =
      new SettingType<>(
          "a whole number",
          v -> Math.toIntExact(wholeNumber(v)),
          s -> Math.toIntExact(whole(s)),
          i -> i);

  public static final SettingType<Long> LONG =
      new SettingType<>("a whole number", SettingType::wholeNumber, SettingType::whole, l -> l);

  public static final SettingType<Double> NUMBER =
      new SettingType<>(
          "a number",
          v -> v instanceof Number n ? n.doubleValue() : mismatch(),
          SettingType::decimal,
          d -> d);

  /** A JSON list, or comma-separated text. */
  public static final SettingType<List<String>> LIST =
      new SettingType<>(
          "a list (JSON array or comma-separated text)",
          v -> v instanceof String s ? commaSeparated(s) : items(v),
          SettingType::commaSeparated,
          JsonArray::new);

  /** A command line: a JSON list, or text split on white space. */
  public static final SettingType<List<String>> WORDS =
      new SettingType<>(
          "a command (JSON array or text)",
          v -> v instanceof String s ? words(s) : items(v),
          SettingType::words,
          JsonArray::new);

  /** A JSON object; from the environment, JSON text. */
  public static final SettingType<JsonObject> OBJECT =
      new SettingType<>(
          "a JSON object",
          v ->
              v instanceof JsonObject o
                  ? o.copy()
                  : v instanceof Map<?, ?> m ? new JsonObject(copy(m)) : mismatch(),
          SettingType::object,
          JsonObject::copy);

  /** Reads a JSON value; null stays null (unset). */
  T fromJson(Object v) {
    try {
      return v == null ? null : json.apply(v);
    } catch (ArithmeticException | ClassCastException e) {
      throw new Mismatch(null);
    }
  }

  /** Reads a variable's or flag's text. */
  T fromText(String s) {
    try {
      return text.apply(s);
    } catch (ArithmeticException e) {
      throw new Mismatch(null);
    }
  }

  Object write(T value) {
    return value == null ? null : toJson.apply(value);
  }

  static <X> X mismatch() {
    throw new Mismatch(null);
  }

  private static Boolean bool(String s) {
    return switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "on" -> true;
      case "false", "0", "no", "off" -> false;
      default -> mismatch();
    };
  }

  /** In JSON a number is a number: {@code "8"} is text. */
  private static long wholeNumber(Object v) {
    return v instanceof String ? mismatch() : whole(v);
  }

  /** Whole numbers; JSON readers give {@code 4.0} for "4.0", which is still a whole number. */
  private static long whole(Object v) {
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Number n
        && n.doubleValue() == Math.rint(n.doubleValue())
        && !Double.isInfinite(n.doubleValue())) {
      return n.longValue();
    }
    if (v instanceof String s) {
      try {
        return Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        return mismatch();
      }
    }
    return mismatch();
  }

  private static double decimal(String s) {
    try {
      return Double.parseDouble(s.trim());
    } catch (NumberFormatException e) {
      return mismatch();
    }
  }

  private static List<String> items(Object v) {
    List<String> out = new ArrayList<>();
    Iterable<?> it = v instanceof JsonArray a ? a : v instanceof List<?> l ? l : mismatch();
    for (Object o : it) {
      if (!(o instanceof String) && !(o instanceof Number)) {
        mismatch();
      }
      out.add(o.toString().trim());
    }
    return out;
  }

  private static List<String> commaSeparated(String s) {
    List<String> out = new ArrayList<>();
    for (String part : s.split(",")) {
      if (!part.isBlank()) {
        out.add(part.trim());
      }
    }
    return out;
  }

  private static List<String> words(String s) {
    List<String> out = new ArrayList<>();
    for (String w : s.trim().split("\\s+")) {
      if (!w.isEmpty()) {
        out.add(w);
      }
    }
    return out;
  }

  private static JsonObject object(String s) {
    if (s.isBlank()) {
      return new JsonObject();
    }
    try {
      return new JsonObject(s);
    } catch (DecodeException | ClassCastException e) {
      return mismatch();
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> copy(Map<?, ?> m) {
    return new JsonObject((Map<String, Object>) m).copy().getMap();
  }
}

package io.celerity.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Date;
import java.util.function.Function;

/**
 * Java values encoded as kombu's JSON encoder encodes their Python counterparts: dates and times as
 * ISO-8601 strings (UTC as {@code Z}, microseconds only when non-zero), {@code Decimal} as a
 * string, UUIDs as strings (Jackson's default).
 */
final class KombuTypes {

  private static final DateTimeFormatter SECONDS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");
  private static final DateTimeFormatter MICROS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS");
  private static final DateTimeFormatter TIME_SECONDS = DateTimeFormatter.ofPattern("HH:mm:ss");
  private static final DateTimeFormatter TIME_MICROS =
      DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS");

  private KombuTypes() {}

  static SimpleModule module() {
    SimpleModule m = new SimpleModule("kombu-json");
    m.addSerializer(Instant.class, string(i -> dateTime(i.atOffset(ZoneOffset.UTC))));
    m.addSerializer(Date.class, string(d -> dateTime(d.toInstant().atOffset(ZoneOffset.UTC))));
    m.addSerializer(OffsetDateTime.class, string(KombuTypes::dateTime));
    m.addSerializer(ZonedDateTime.class, string(z -> dateTime(z.toOffsetDateTime())));
    m.addSerializer(LocalDateTime.class, string(KombuTypes::naive));
    m.addSerializer(LocalDate.class, string(d -> naive(d.atStartOfDay())));
    m.addSerializer(
        LocalTime.class,
        string(t -> (t.getNano() / 1000 == 0 ? TIME_SECONDS : TIME_MICROS).format(t)));
    m.addSerializer(BigDecimal.class, string(BigDecimal::toPlainString));
    // Vert.x JSON values reach the encoder from control replies and stats: write their content. The
    // task API ships without Vert.x, so they are only known when Vert.x is on the class path.
    if (vertxPresent()) {
      VertxJson.register(m);
    }
    return m;
  }

  private static boolean vertxPresent() {
    try {
      Class.forName("io.vertx.core.json.JsonObject", false, KombuTypes.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  /** Loaded only when Vert.x is present. */
  private static final class VertxJson {
    static void register(SimpleModule m) {
      m.addSerializer(
          io.vertx.core.json.JsonObject.class,
          new JsonSerializer<>() {
            @Override
            public void serialize(
                io.vertx.core.json.JsonObject value, JsonGenerator gen, SerializerProvider p)
                throws IOException {
              p.defaultSerializeValue(value.getMap(), gen);
            }
          });
      m.addSerializer(
          io.vertx.core.json.JsonArray.class,
          new JsonSerializer<>() {
            @Override
            public void serialize(
                io.vertx.core.json.JsonArray value, JsonGenerator gen, SerializerProvider p)
                throws IOException {
              p.defaultSerializeValue(value.getList(), gen);
            }
          });
    }
  }

  private static String naive(LocalDateTime t) {
    return (t.getNano() / 1000 == 0 ? SECONDS : MICROS).format(t);
  }

  private static String dateTime(OffsetDateTime t) {
    String base = naive(t.toLocalDateTime());
    return t.getOffset().equals(ZoneOffset.UTC) ? base + "Z" : base + t.getOffset().getId();
  }

  private static <T> JsonSerializer<T> string(Function<T, String> f) {
    return new JsonSerializer<>() {
      @Override
      public void serialize(T value, JsonGenerator gen, SerializerProvider serializers)
          throws IOException {
        gen.writeString(f.apply(value));
      }
    };
  }
}

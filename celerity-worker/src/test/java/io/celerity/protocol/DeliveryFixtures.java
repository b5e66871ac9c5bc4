package io.celerity.protocol;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Loads the captured Celery 5.2.6 messages under {@code src/test/resources/fixtures} as {@link
 * Delivery} values, the way the AMQP and Redis transports hand them to the decoder.
 */
public final class DeliveryFixtures {

  /** A plain Jackson mapper: the fixtures are read independently of the code under test. */
  private static final ObjectMapper PLAIN = new ObjectMapper();

  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private DeliveryFixtures() {}

  /** Fixture names (file names without {@code .json}) for {@code amqp} or {@code redis}, sorted. */
  public static List<String> names(String transport) {
    URL dir = DeliveryFixtures.class.getResource("/fixtures/" + transport);
    if (dir == null) {
      throw new IllegalStateException("no fixtures for " + transport);
    }
    try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".json"))
          .map(n -> n.substring(0, n.length() - ".json".length()))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The fixture file as a map. */
  public static Map<String, Object> raw(String transport, String name) {
    try (InputStream in =
        DeliveryFixtures.class.getResourceAsStream(
            "/fixtures/" + transport + "/" + name + ".json")) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture " + transport + "/" + name);
      }
      return PLAIN.readValue(in, MAP);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static Delivery load(String transport, String name) {
    return switch (transport) {
      case "amqp" -> amqp(name);
      case "redis" -> redis(name);
      default -> throw new IllegalArgumentException(transport);
    };
  }

  /** An AMQP fixture: properties, headers, raw UTF-8 body (or {@code body_base64}). */
  @SuppressWarnings("unchecked")
  public static Delivery amqp(String name) {
    Map<String, Object> f = raw("amqp", name);
    Map<String, Object> props = (Map<String, Object>) f.get("properties");
    Map<String, Object> headers = (Map<String, Object>) f.get("headers");
    byte[] body =
        f.get("body") != null
            ? f.get("body").toString().getBytes(StandardCharsets.UTF_8)
            : Base64.getDecoder().decode(f.get("body_base64").toString());
    String queue = (String) f.get("queue");
    return new Delivery(
        body,
        (String) props.get("content_type"),
        (String) props.get("content_encoding"),
        headers,
        (String) props.get("correlation_id"),
        (String) props.get("reply_to"),
        priority(props.get("priority")),
        "",
        queue,
        queue,
        false,
        1L,
        0);
  }

  /** A Redis fixture: the kombu JSON envelope with a base64 body. */
  @SuppressWarnings("unchecked")
  public static Delivery redis(String name) {
    Map<String, Object> env = envelope(name);
    Map<String, Object> props = (Map<String, Object>) env.get("properties");
    Map<String, Object> info = (Map<String, Object>) props.getOrDefault("delivery_info", Map.of());
    byte[] body = Base64.getDecoder().decode(env.get("body").toString());
    return new Delivery(
        body,
        (String) env.get("content-type"),
        (String) env.get("content-encoding"),
        (Map<String, Object>) env.get("headers"),
        (String) props.get("correlation_id"),
        (String) props.get("reply_to"),
        priority(props.get("priority")),
        (String) info.get("exchange"),
        (String) info.get("routing_key"),
        (String) info.get("routing_key"),
        false,
        7L,
        0);
  }

  /** The kombu envelope of a Redis fixture, parsed. */
  public static Map<String, Object> envelope(String name) {
    try {
      return PLAIN.readValue(raw("redis", name).get("envelope").toString(), MAP);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The task headers of a fixture as captured (for v1: the empty AMQP headers). */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> headers(String transport, String name) {
    return transport.equals("amqp")
        ? (Map<String, Object>) raw("amqp", name).get("headers")
        : (Map<String, Object>) envelope(name).get("headers");
  }

  /**
   * A published message as a transport delivers it from queue {@code celery}, under {@code tag} of
   * {@code generation}.
   */
  public static Delivery delivered(OutgoingMessage m, Object tag, long generation) {
    return new Delivery(
        m.body(),
        m.contentType(),
        m.contentEncoding(),
        m.headers(),
        null,
        null,
        0,
        "",
        "celery",
        "celery",
        false,
        tag,
        generation);
  }

  /**
   * A synthetic delivery: the given body and content type, with the headers of the AMQP {@code add}
   * fixture unless given.
   */
  public static Delivery withBody(byte[] body, String contentType, Map<String, Object> headers) {
    Delivery add = amqp("add");
    return new Delivery(
        body,
        contentType,
        "utf-8",
        headers == null ? add.headers() : headers,
        add.correlationId(),
        add.replyTo(),
        0,
        "",
        "celery",
        "celery",
        false,
        2L,
        0);
  }

  private static Integer priority(Object p) {
    return p == null ? null : ((Number) p).intValue();
  }
}

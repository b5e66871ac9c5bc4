package io.celerity.transport.amqp;

import io.celerity.config.Urls;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * A broker URL as kombu reads it: {@code amqp://user:password@host:port/vhost}, where the path
 * after the first slash is the vhost ({@code //} meaning {@code /}), and a missing vhost means
 * {@code /}.
 *
 * @param host host
 * @param port port
 * @param user user
 * @param password password
 * @param vhost virtual host
 * @param ssl amqps
 */
public record AmqpUrl(
    String host, int port, String user, String password, String vhost, boolean ssl) {

  public static AmqpUrl parse(String url) {
    int sep = url.indexOf("://");
    if (sep > 0 && (url.length() == sep + 3 || url.charAt(sep + 3) == '/')) {
      url =
          url.substring(0, sep + 3)
              + "localhost"
              + url.substring(sep + 3); // kombu: "amqp://" means localhost
    }
    URI u;
    try {
      u = new URI(url);
    } catch (URISyntaxException e) {
      // the exception's own message quotes the URL, password and all; the scheme and position say
      // enough
      throw new IllegalArgumentException(
          "invalid broker URL "
              + Urls.scheme(url)
              + "://…: "
              + e.getReason()
              + " at index "
              + e.getIndex());
    }
    boolean ssl = "amqps".equals(u.getScheme());
    String user = "guest";
    String password = "guest";
    if (u.getRawUserInfo() != null) {
      String[] parts = u.getRawUserInfo().split(":", 2);
      user = decode(parts[0]);
      if (parts.length > 1) {
        password = decode(parts[1]);
      }
    }
    String path = u.getRawPath();
    String vhost = path == null || path.length() <= 1 ? "/" : decode(path.substring(1));
    int port = u.getPort() > 0 ? u.getPort() : (ssl ? 5671 : 5672);
    return new AmqpUrl(
        u.getHost() == null ? "localhost" : u.getHost(), port, user, password, vhost, ssl);
  }

  private static String decode(String s) {
    // percent-decoding only, as kombu's unquote: a '+' stays a '+'
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** The URL without the password, for logs. */
  public String redacted() {
    return Urls.redact(
        (ssl ? "amqps" : "amqp")
            + "://"
            + user
            + ":"
            + password
            + "@"
            + host
            + ":"
            + port
            + "/"
            + ("/".equals(vhost) ? "/" : vhost));
  }
}

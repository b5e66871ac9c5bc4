package io.celerity.control;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Who may call what on the HTTP bridge: one handler in front of every route of the router, so a
 * route is protected unless it was declared otherwise. In order it checks
 *
 * <ol>
 *   <li>the {@code Host} header (DNS rebinding): an IP literal, {@code localhost}, the bound name
 *       or an entry of {@code http_allowed_hosts};
 *   <li>the {@code Origin} header (cross-site requests): same origin, or an entry of {@code
 *       http_cors_origins}, which also get CORS headers and preflight answers;
 *   <li>the bearer token: every route needs it unless declared {@link Access#PUBLIC}, or {@link
 *       Access#READ} while reads are open ({@code http_require_token_for_reads} off);
 *   <li>the body: a request that carries one must say {@code application/json}.
 * </ol>
 *
 * Probes ({@link Access#PUBLIC}) skip the Host and Origin checks: orchestrators call them by pod IP
 * or any name, and they reveal nothing.
 */
final class HttpPolicy {

  /** What a route needs. Routes never declared need the token. */
  enum Access {
    /** Liveness and readiness probes: always open. */
    PUBLIC,
    /**
     * Reads (results, inspect, metrics, dashboard): open on loopback unless reads need the token.
     */
    READ,
    /** Everything else: the bearer token, always. */
    TOKEN
  }

  /** Shortest {@code http_token} accepted: a guessable token is no protection. */
  static final int MIN_TOKEN_LENGTH = 16;

  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private record Rule(HttpMethod method, String[] segments, Access access) {}

  private final byte[] token;
  private final boolean readsNeedToken;
  private final String boundHost;
  private final List<String> allowedHosts;
  private final List<String> corsOrigins;
  private final List<Rule> rules = new ArrayList<>();

  /**
   * @param token the bearer token (configured or generated); never null
   * @param readsNeedToken whether {@link Access#READ} routes need the token too
   * @param boundHost {@code http_host}, allowed as a Host name
   * @param allowedHosts {@code http_allowed_hosts}: names, {@code .domain} suffixes, or {@code *}
   * @param corsOrigins {@code http_cors_origins}: origins such as {@code https://ops.example.com},
   *     or {@code *}
   */
  HttpPolicy(
      String token,
      boolean readsNeedToken,
      String boundHost,
      List<String> allowedHosts,
      List<String> corsOrigins) {
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.readsNeedToken = readsNeedToken;
    this.boundHost = hostName(boundHost);
    this.allowedHosts = allowedHosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
    this.corsOrigins = corsOrigins.stream().map(HttpPolicy::trimSlash).toList();
  }

  /**
   * A token for a run without {@code http_token}: 24 random bytes in hex, as Jupyter makes its own.
   */
  static String generateToken() {
    byte[] b = new byte[24];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /**
   * Declares what {@code method path} needs; {@code :name} matches one segment, a final {@code *}
   * the rest.
   */
  void declare(HttpMethod method, String path, Access access) {
    rules.add(new Rule(method, segments(path), access));
  }

  /** What a request needs: the first declared rule matching it, else {@link Access#TOKEN}. */
  Access access(HttpMethod method, String path) {
    String[] p = segments(path == null ? "/" : path);
    for (Rule r : rules) {
      if (r.method.equals(method) && matches(r.segments, p)) {
        return r.access;
      }
    }
    return Access.TOKEN;
  }

  private static String[] segments(String path) {
    String trimmed = path.replaceAll("^/+|/+$", "");
    return trimmed.isEmpty() ? new String[0] : trimmed.split("/+");
  }

  private static boolean matches(String[] pattern, String[] path) {
    for (int i = 0; i < pattern.length; i++) {
      if (pattern[i].equals("*") && i == pattern.length - 1) {
        return true;
      }
      if (i >= path.length || !(pattern[i].startsWith(":") || pattern[i].equals(path[i]))) {
        return false;
      }
    }
    return pattern.length == path.length;
  }

  /**
   * The DNS-rebinding guard: a page that rebinds its own name to this machine still sends its name
   * as {@code Host}. IP literals cannot be rebound, {@code localhost} names never leave the
   * machine.
   */
  boolean hostAllowed(String hostHeader) {
    if (hostHeader == null || hostHeader.isBlank()) {
      return false;
    }
    String host = hostName(hostHeader);
    if (host.startsWith("[")
        || IPV4.matcher(host).matches()
        || host.equals("localhost")
        || host.endsWith(".localhost")
        || host.equals(boundHost)) {
      return true;
    }
    for (String allowed : allowedHosts) {
      if (allowed.equals("*")
          || allowed.equals(host)
          || (allowed.startsWith(".")
              && (host.endsWith(allowed) || host.equals(allowed.substring(1))))) {
        return true;
      }
    }
    return false;
  }

  /** {@code Host} without its port, lower case, without a trailing dot. */
  private static String hostName(String hostHeader) {
    String h = hostHeader.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end < 0 ? h : h.substring(0, end + 1);
    }
    int colon = h.indexOf(':');
    if (colon >= 0 && colon == h.lastIndexOf(':')) {
      h = h.substring(0, colon);
    } else if (colon >= 0) {
      return "[" + h + "]"; // a bare IPv6 address (our own http_host setting)
    }
    return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }

  /**
   * A request without {@code Origin}, from its own origin, or from an origin of {@code
   * http_cors_origins}.
   */
  boolean originAllowed(String origin, String hostHeader) {
    if (origin == null) {
      return true;
    }
    String o = trimSlash(origin).toLowerCase(Locale.ROOT);
    if (hostHeader != null
        && (o.equals("http://" + hostHeader.toLowerCase(Locale.ROOT))
            || o.equals("https://" + hostHeader.toLowerCase(Locale.ROOT)))) {
      return true;
    }
    return corsAllowed(origin);
  }

  private boolean corsAllowed(String origin) {
    String o = trimSlash(origin);
    return corsOrigins.stream().anyMatch(c -> c.equals("*") || c.equalsIgnoreCase(o));
  }

  private static String trimSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /** Constant-time comparison of the bearer token: it must not leak through response timing. */
  boolean tokenPresented(HttpServerRequest request) {
    String header = request.getHeader(HttpHeaders.AUTHORIZATION);
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    return MessageDigest.isEqual(
        token, header.substring(7).trim().getBytes(StandardCharsets.UTF_8));
  }

  /** True when the request carries a body that is not JSON (forms, multipart, text/plain). */
  static boolean nonJsonBody(HttpServerRequest request) {
    String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    boolean body =
        request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null
            || (length != null && !length.trim().equals("0"));
    if (!body) {
      return false;
    }
    String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
    String mime = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return !mime.equals("application/json");
  }

  /** The router-wide handler: refuses, answers a CORS preflight, or passes the request on. */
  void handle(RoutingContext rc) {
    HttpServerRequest req = rc.request();
    Access access = access(req.method(), rc.normalizedPath());
    String host = req.getHeader(HttpHeaders.HOST);
    String origin = req.getHeader(HttpHeaders.ORIGIN);
    if (access != Access.PUBLIC) {
      if (!hostAllowed(host)) {
        refuse(
            rc,
            403,
            "Host '"
                + host
                + "' is not allowed (DNS rebinding guard): add it to http_allowed_hosts");
        return;
      }
      if (!originAllowed(origin, host)) {
        refuse(
            rc,
            403,
            "cross-origin request from "
                + origin
                + " refused: add the origin to http_cors_origins");
        return;
      }
      if (origin != null && corsAllowed(origin)) {
        rc.response().putHeader("Access-Control-Allow-Origin", origin).putHeader("Vary", "Origin");
        if (req.method() == HttpMethod.OPTIONS
            && req.getHeader("Access-Control-Request-Method") != null) {
          rc.response()
              .setStatusCode(204)
              .putHeader("Access-Control-Allow-Methods", "GET, POST")
              .putHeader("Access-Control-Allow-Headers", "Authorization, Content-Type")
              .putHeader("Access-Control-Max-Age", "600")
              .end();
          return;
        }
      }
    }
    boolean needsToken = access == Access.TOKEN || (access == Access.READ && readsNeedToken);
    if (needsToken && !tokenPresented(req)) {
      rc.response().putHeader("WWW-Authenticate", "Bearer");
      refuse(rc, 401, "missing or wrong bearer token (Authorization: Bearer <http_token>)");
      return;
    }
    if (nonJsonBody(req)) {
      refuse(rc, 415, "request bodies must be application/json");
      return;
    }
    rc.next();
  }

  private static void refuse(RoutingContext rc, int status, String why) {
    rc.response()
        .setStatusCode(status)
        .putHeader("content-type", "application/json")
        .putHeader("Connection", "close")
        .end(new JsonObject().put("error", why).encode());
  }
}

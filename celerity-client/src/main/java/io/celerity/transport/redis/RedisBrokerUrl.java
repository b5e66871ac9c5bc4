package io.celerity.transport.redis;

import io.celerity.config.Urls;
import io.celerity.transport.Tls;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A kombu Redis broker URL and the transport options that apply to it.
 *
 * <p>Accepted forms: {@code redis://[[user]:password@]host[:port][/db]}, {@code rediss://…} (TLS),
 * and kombu's Sentinel list {@code sentinel://h1:26379;sentinel://h2:26379/db} with the {@code
 * master_name} transport option. Transport options come from Celery's {@code
 * broker_transport_options} and may be given in the URL query as well ({@code
 * ?visibility_timeout=600&global_keyprefix=pfx:}); the query wins.
 *
 * @param endpoints connection strings for vertx-redis-client (one, or the sentinels)
 * @param sentinel true for Sentinel mode
 * @param db database number (fanout channel names carry it)
 * @param options merged transport options
 */
public record RedisBrokerUrl(
    List<String> endpoints, boolean sentinel, int db, Map<String, Object> options) {

  /** kombu's default {@code visibility_timeout}, seconds. */
  public static final double DEFAULT_VISIBILITY_TIMEOUT = 3600;

  public static RedisBrokerUrl parse(String url, Map<String, Object> transportOptions) {
    Map<String, Object> opts =
        new LinkedHashMap<>(transportOptions == null ? Map.of() : transportOptions);
    String rest = url;
    int q = url.indexOf('?');
    if (q >= 0) {
      rest = url.substring(0, q);
      for (String pair : url.substring(q + 1).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String k = decode(eq < 0 ? pair : pair.substring(0, eq));
        opts.put(k, eq < 0 ? "" : decode(pair.substring(eq + 1)));
      }
    }
    List<String> endpoints = new ArrayList<>();
    boolean sentinel = "sentinel".equals(Urls.scheme(rest));
    int db = 0;
    for (String part : rest.split(";")) {
      String scheme = Urls.scheme(part);
      if (scheme == null || !List.of("redis", "rediss", "sentinel").contains(scheme)) {
        throw new IllegalArgumentException("not a Redis broker URL: " + Urls.redact(url));
      }
      String afterScheme = part.substring(scheme.length() + 3);
      int slash = afterScheme.indexOf('/');
      String authority = slash < 0 ? afterScheme : afterScheme.substring(0, slash);
      String path = slash < 0 ? "" : afterScheme.substring(slash + 1);
      if (!path.isEmpty()) {
        try {
          db = Integer.parseInt(path);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "Redis database must be a number, not '" + path + "' in " + Urls.redact(url));
        }
      }
      if (authority.isEmpty()) {
        authority = "127.0.0.1:" + (sentinel ? 26379 : 6379);
      }
      endpoints.add((sentinel ? "redis" : scheme) + "://" + authority);
    }
    // every endpoint gets the database (kombu writes it on the last sentinel only)
    int finalDb = db;
    endpoints.replaceAll(e -> e + "/" + finalDb);
    if (sentinel && opts.get("master_name") == null) {
      throw new IllegalArgumentException(
          "Sentinel broker URL needs the master_name transport option: " + Urls.redact(url));
    }
    return new RedisBrokerUrl(List.copyOf(endpoints), sentinel, db, opts);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** {@code global_keyprefix}, {@code ""} when unset. */
  public String globalKeyprefix() {
    Object p = options.get("global_keyprefix");
    return p == null ? "" : p.toString();
  }

  /** {@code visibility_timeout} in seconds. */
  public double visibilityTimeout() {
    Object v = options.get("visibility_timeout");
    if (v == null || v.toString().isBlank()) {
      return DEFAULT_VISIBILITY_TIMEOUT;
    }
    double d = v instanceof Number n ? n.doubleValue() : Double.parseDouble(v.toString());
    if (d <= 0) {
      throw new IllegalArgumentException("visibility_timeout must be positive, not " + v);
    }
    return d;
  }

  /** vertx-redis-client options: standalone or Sentinel (master role). */
  public RedisOptions redisOptions(int maxPoolSize) {
    RedisOptions o =
        new RedisOptions()
            .setMaxPoolSize(maxPoolSize)
            .setMaxPoolWaiting(100_000)
            .setMaxWaitingHandlers(100_000);
    if (sentinel) {
      o.setType(RedisClientType.SENTINEL)
          .setMasterName(options.get("master_name").toString())
          .setRole(RedisRole.MASTER);
      endpoints.forEach(o::addConnectionString);
    } else {
      o.setConnectionString(endpoints.get(0));
    }
    return Tls.forRediss(o, endpoints.get(0));
  }

  /** For logs: the endpoints without passwords. */
  public String redacted() {
    return String.join(";", endpoints.stream().map(Urls::redact).toList());
  }
}

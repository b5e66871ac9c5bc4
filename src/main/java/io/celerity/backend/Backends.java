package io.celerity.backend;

import io.celerity.config.Urls;

import io.vertx.core.Vertx;


/** Picks the result backend for a {@code result_backend} URL. */
public final class Backends {

  private Backends() {
  }

  public static ResultBackend create(Vertx vertx, String url, long resultExpires) {
    if (url == null || url.isBlank() || url.equals("disabled") || url.equals("none")) {
      return new DisabledBackend();
    }
    String scheme = Urls.scheme(url);
    return switch (scheme == null ? "" : scheme) {
      case "redis", "rediss" -> new RedisBackend(vertx, url, resultExpires, null);
      case "memory" -> new MemoryBackend(100_000);
      case "rpc" -> new RpcBackend(vertx);
      default -> throw new IllegalArgumentException("unsupported result backend '" + Urls.redact(url) + "' (supported: redis://, rediss://, rpc://, memory://)");
    };
  }
}

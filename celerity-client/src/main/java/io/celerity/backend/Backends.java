package io.celerity.backend;

import io.celerity.config.Urls;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.function.Function;

/** Picks the result backend for a {@code result_backend} URL. */
public final class Backends {

  private Backends() {}

  /**
   * @param rpcPublisher publishes an {@code rpc://} reply on the caller's broker connection and
   *     completes once the broker confirmed it
   */
  public static ResultBackend create(
      Vertx vertx,
      String url,
      long resultExpires,
      Function<OutgoingMessage, Future<Void>> rpcPublisher) {
    if (url == null || url.isBlank() || url.equals("disabled") || url.equals("none")) {
      return new DisabledBackend();
    }
    String scheme = Urls.scheme(url);
    return switch (scheme == null ? "" : scheme) {
      case "redis", "rediss" -> new RedisBackend(vertx, url, resultExpires, null);
      case "memory" -> new MemoryBackend(100_000);
      case "rpc" -> new RpcBackend(rpcPublisher);
      default ->
          throw new IllegalArgumentException(
              "unsupported result backend '"
                  + Urls.redact(url)
                  + "' (supported: redis://, rediss://, rpc://, memory://)");
    };
  }
}

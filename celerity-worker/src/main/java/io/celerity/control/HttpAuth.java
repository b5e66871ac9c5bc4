package io.celerity.control;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The HTTP bridge's token rule: requests that change state need {@code Authorization: Bearer
 * <http_token>}. Without a configured token such requests are refused outright (the bridge is then
 * read-only), so nothing on the machine can revoke or shut down tasks by default.
 */
final class HttpAuth {

  private final byte[] token;

  HttpAuth(String token) {
    this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
  }

  /** True for addresses only this machine reaches. */
  static boolean isLoopback(String host) {
    return host.equals("localhost") || host.equals("::1") || host.equals("[::1]") || host.startsWith("127.");
  }

  boolean allowed(RoutingContext rc) {
    String header = rc.request().getHeader("Authorization");
    if (token == null || header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    // constant-time comparison: the token must not leak through response timing
    return MessageDigest.isEqual(token, header.substring(7).trim().getBytes(StandardCharsets.UTF_8));
  }

  void refuse(RoutingContext rc) {
    int status = token == null ? 403 : 401;
    String why = token == null ? "state-changing commands are disabled: set http_token to enable them"
      : "missing or wrong bearer token";
    rc.response().setStatusCode(status).putHeader("content-type", "application/json")
      .putHeader("WWW-Authenticate", "Bearer").end(new JsonObject().put("error", why).encode());
  }

  /**
   * For Flower's task-sending endpoint: open while no token is configured (sending a task needs no
   * more than broker access), the token once one is.
   */
  void requireTokenIfSet(RoutingContext rc) {
    if (token == null || allowed(rc)) {
      rc.next();
    } else {
      refuse(rc);
    }
  }
}

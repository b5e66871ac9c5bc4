package io.celerity.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.control.HttpPolicy.Access;
import io.vertx.core.http.HttpMethod;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bridge's policy without a server: what a route needs, which Host and Origin pass. */
class HttpPolicyTest {

  private final HttpPolicy policy =
      new HttpPolicy(
          "0123456789abcdef",
          false,
          "0.0.0.0",
          List.of("celerity.example"),
          List.of("https://ops.example.com"));

  @Test
  void routesNeedTheTokenUnlessDeclaredOpen() {
    policy.declare(HttpMethod.GET, "/health", Access.PUBLIC);
    policy.declare(HttpMethod.GET, "/api/task/result/:id", Access.READ);
    policy.declare(HttpMethod.GET, "/static/*", Access.READ);
    assertEquals(Access.PUBLIC, policy.access(HttpMethod.GET, "/health"));
    assertEquals(Access.PUBLIC, policy.access(HttpMethod.GET, "/health/"));
    assertEquals(
        Access.TOKEN, policy.access(HttpMethod.POST, "/health"), "another method is another route");
    assertEquals(Access.READ, policy.access(HttpMethod.GET, "/api/task/result/abc"));
    assertEquals(Access.TOKEN, policy.access(HttpMethod.GET, "/api/task/result/abc/more"));
    assertEquals(Access.READ, policy.access(HttpMethod.GET, "/static/js/app.js"));
    // a route someone adds to the router without declaring it: protected
    assertEquals(Access.TOKEN, policy.access(HttpMethod.GET, "/api/workers"));
    assertEquals(Access.TOKEN, policy.access(HttpMethod.GET, "/"));
  }

  @Test
  void aRouteAddedStraightToTheRouterNeedsTheToken() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      io.vertx.ext.web.Router router = io.vertx.ext.web.Router.router(vertx);
      router.route().handler(policy::handle);
      policy.declare(HttpMethod.GET, "/api/open", Access.READ);
      router.get("/api/open").handler(rc -> rc.end("open"));
      router
          .get("/api/workers")
          .handler(rc -> rc.end("workers")); // as a later feature might add it
      int port =
          vertx
              .createHttpServer()
              .requestHandler(router)
              .listen(0, "127.0.0.1")
              .toCompletionStage()
              .toCompletableFuture()
              .get()
              .actualPort();
      java.util.Map<String, String> local = java.util.Map.of("Host", "127.0.0.1:" + port);
      assertEquals(
          200,
          HttpBridgeSecurityTest.send(port, "GET", "/api/open", local, java.util.Map.of(), null)
              .status());
      assertEquals(
          401,
          HttpBridgeSecurityTest.send(port, "GET", "/api/workers", local, java.util.Map.of(), null)
              .status());
      assertEquals(
          200,
          HttpBridgeSecurityTest.send(
                  port,
                  "GET",
                  "/api/workers",
                  local,
                  java.util.Map.of("Authorization", "Bearer 0123456789abcdef"),
                  null)
              .status());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  @Test
  void hostsThatADnsRebindingPageWouldSendAreRefused() {
    for (String ok :
        List.of(
            "127.0.0.1:8080",
            "localhost",
            "app.localhost:1",
            "[::1]:8080",
            "192.168.1.10",
            "0.0.0.0:8080",
            "celerity.example:8080",
            "CELERITY.EXAMPLE.")) {
      assertTrue(policy.hostAllowed(ok), ok);
    }
    for (String bad :
        List.of(
            "evil.example",
            "celerity.example.evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "")) {
      assertFalse(policy.hostAllowed(bad), bad);
    }
  }

  @Test
  void originsOtherThanOwnOrAllowedAreRefused() {
    assertTrue(policy.originAllowed(null, "127.0.0.1:8080"));
    assertTrue(policy.originAllowed("http://127.0.0.1:8080", "127.0.0.1:8080"));
    assertTrue(policy.originAllowed("https://ops.example.com", "127.0.0.1:8080"));
    assertFalse(policy.originAllowed("http://evil.example", "127.0.0.1:8080"));
    assertFalse(policy.originAllowed("null", "127.0.0.1:8080"));
    assertFalse(
        policy.originAllowed("http://127.0.0.1:9999", "127.0.0.1:8080"),
        "another port is another origin");
  }
}

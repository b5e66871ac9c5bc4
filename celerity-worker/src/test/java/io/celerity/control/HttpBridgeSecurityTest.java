package io.celerity.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.it.WorkerHarness;
import io.celerity.support.BlockedThreadGuard;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP bridge against the requests an attacker on the machine or behind a browser would send,
 * written byte for byte on a socket (so Host, Origin and Content-Type are exactly the hostile
 * ones), on a worker with the in-JVM broker.
 */
class HttpBridgeSecurityTest {

  private static final String TOKEN = "0123456789abcdef-test-token";
  private static final Path UPLOADS = Path.of("file-uploads");

  private final Vertx vertx = BlockedThreadGuard.strictVertx();
  private WorkerHarness worker;

  @AfterEach
  void close() throws Exception {
    if (worker != null) {
      worker.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private int start(JsonObject extra) throws Exception {
    String q = "sec-" + UUID.randomUUID();
    worker =
        WorkerHarness.start(
            vertx, WorkerHarness.config("memory://" + q, "memory://", q).mergeIn(extra));
    return worker.httpPort();
  }

  @Test
  void uploadsAreNeverWrittenNotEvenTo404PathsOrWithTheToken() throws Exception {
    long before = uploadedFiles();
    boolean existed = Files.exists(UPLOADS);
    int port = start(new JsonObject());
    String multipart =
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"fill.bin\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n"
            + "A".repeat(10_000)
            + "\r\n--XyZ--\r\n";
    Map<String, String> type = Map.of("Content-Type", "multipart/form-data; boundary=XyZ");
    assertEquals(401, send(port, "POST", "/no/such/path", local(port), type, multipart).status());
    assertEquals(
        415,
        send(
                port,
                "POST",
                "/no/such/path",
                withToken(local(port), worker.httpToken()),
                type,
                multipart)
            .status());
    assertEquals(
        415,
        send(
                port,
                "POST",
                "/api/task/async-apply/examples.add",
                withToken(local(port), worker.httpToken()),
                type,
                multipart)
            .status());
    assertEquals(before, uploadedFiles(), "nothing written to ./file-uploads");
    assertEquals(existed, Files.exists(UPLOADS), "no ./file-uploads directory made");
  }

  @Test
  void taskSubmissionNeedsAGeneratedTokenWhenNoneIsConfiguredAndAJsonBody() throws Exception {
    int port = start(new JsonObject());
    String token = worker.httpToken();
    assertTrue(token != null && token.length() >= 32, "a generated token: " + token);
    String add = "/api/task/async-apply/examples.add";
    String body = "{\"args\": [2, 2]}";

    // The CSRF of the issue: a page's text/plain POST from another origin.
    Map<String, String> csrf = new LinkedHashMap<>(local(port));
    csrf.put("Origin", "http://evil.example");
    csrf.put("Content-Type", "text/plain");
    assertEquals(403, send(port, "POST", add, csrf, Map.of(), body).status());
    assertEquals(
        401,
        send(port, "POST", add, local(port), Map.of("Content-Type", "text/plain"), body).status());
    assertEquals(
        403,
        send(port, "POST", add, withToken(csrf, token), Map.of(), body).status(),
        "a foreign origin, even with the token");
    assertEquals(
        415,
        send(
                port,
                "POST",
                add,
                withToken(local(port), token),
                Map.of("Content-Type", "text/plain"),
                body)
            .status());
    assertEquals(
        401,
        send(port, "POST", add, withToken(local(port), "wrong-token-wrong-token"), json(), body)
            .status());
    assertEquals(0, totalTasks(port), "no refused request published a task");

    Response sent = send(port, "POST", add, withToken(local(port), token), json(), body);
    assertEquals(200, sent.status(), sent.body());
    // the page's own origin is fine
    Map<String, String> sameOrigin = withToken(local(port), token);
    sameOrigin.put("Origin", "http://127.0.0.1:" + port);
    assertEquals(200, send(port, "POST", add, sameOrigin, json(), body).status());
    String id = new JsonObject(sent.body()).getString("task-id");
    io.celerity.support.Polling.until(
        () -> "SUCCESS".equals(result(port, id).getString("state")), 15_000);
    assertEquals(4, result(port, id).getInteger("result"));
    // state-changing commands take the same token
    assertEquals(401, send(port, "POST", "/control/heartbeat", local(port), Map.of(), "").status());
    assertEquals(
        200,
        send(port, "POST", "/control/heartbeat", withToken(local(port), token), Map.of(), "")
            .status());
  }

  @Test
  void hostsOtherThanTheBoundAddressLocalhostOrTheAllowListAreRefused() throws Exception {
    int port =
        start(
            new JsonObject()
                .put(
                    "http_allowed_hosts",
                    new JsonArray().add("worker.internal").add(".svc.local")));
    for (String bad :
        new String[] {
          "evil.example", "evil.example:" + port, "127.0.0.1.evil.example", "localhost.evil.example"
        }) {
      Response r = send(port, "GET", "/control/inspect/conf", Map.of("Host", bad), Map.of(), null);
      assertEquals(403, r.status(), bad + ": " + r.body());
      assertTrue(r.body().contains("http_allowed_hosts"), r.body());
    }
    for (String good :
        new String[] {
          "127.0.0.1:" + port,
          "localhost:" + port,
          "LOCALHOST",
          "[::1]:" + port,
          "10.1.2.3:" + port,
          "worker.internal:" + port,
          "celerity.svc.local"
        }) {
      assertEquals(
          200,
          send(port, "GET", "/control/inspect/conf", Map.of("Host", good), Map.of(), null).status(),
          good);
    }
    int noHost = send(port, "GET", "/control/inspect/conf", Map.of(), Map.of(), null).status();
    assertTrue(noHost == 400 || noHost == 403, "no Host at all: " + noHost);
    // probes answer whatever the Host: orchestrators call them by pod IP or service name
    assertEquals(
        200, send(port, "GET", "/health", Map.of("Host", "evil.example"), Map.of(), null).status());
  }

  @Test
  void readsNeedTheTokenWhenBoundBeyondLoopbackWhileProbesStayOpen() throws Exception {
    int port = start(new JsonObject().put("http_host", "0.0.0.0").put("http_token", TOKEN));
    for (String read :
        new String[] {
          "/api/task/result/some-id",
          "/control/inspect/conf",
          "/control/inspect/active",
          "/control/stats",
          "/metrics",
          "/no/such/page"
        }) {
      Response r = send(port, "GET", read, local(port), Map.of(), null);
      assertEquals(401, r.status(), read);
      assertEquals("Bearer", r.headers().get("www-authenticate"));
      assertNotEquals(
          401,
          send(port, "GET", read, withToken(local(port), TOKEN), Map.of(), null).status(),
          read);
    }
    assertEquals(200, send(port, "GET", "/health", local(port), Map.of(), null).status());
    assertNotEquals(401, send(port, "GET", "/ready", local(port), Map.of(), null).status());
  }

  @Test
  void readsMayBeOpenedOrClosedExplicitly() throws Exception {
    int port = start(new JsonObject().put("http_require_token_for_reads", true));
    assertEquals(
        401, send(port, "GET", "/control/inspect/active", local(port), Map.of(), null).status());
    assertEquals(
        200,
        send(
                port,
                "GET",
                "/control/inspect/active",
                withToken(local(port), worker.httpToken()),
                Map.of(),
                null)
            .status());
  }

  @Test
  void corsIsOffUnlessAnOriginIsAllowed() throws Exception {
    int port =
        start(
            new JsonObject()
                .put("http_cors_origins", new JsonArray().add("https://ops.example.com")));
    Map<String, String> preflight = new LinkedHashMap<>(local(port));
    preflight.put("Origin", "https://ops.example.com");
    preflight.put("Access-Control-Request-Method", "POST");
    preflight.put("Access-Control-Request-Headers", "authorization, content-type");
    Response ok =
        send(port, "OPTIONS", "/api/task/async-apply/examples.add", preflight, Map.of(), null);
    assertEquals(204, ok.status());
    assertEquals("https://ops.example.com", ok.headers().get("access-control-allow-origin"));
    assertTrue(ok.headers().get("access-control-allow-headers").contains("Authorization"));
    Map<String, String> read = new LinkedHashMap<>(local(port));
    read.put("Origin", "https://ops.example.com");
    Response allowed = send(port, "GET", "/control/inspect/active", read, Map.of(), null);
    assertEquals(200, allowed.status());
    assertEquals("https://ops.example.com", allowed.headers().get("access-control-allow-origin"));
    read.put("Origin", "https://other.example.com");
    Response refused = send(port, "GET", "/control/inspect/active", read, Map.of(), null);
    assertEquals(403, refused.status());
    assertNull(refused.headers().get("access-control-allow-origin"));
  }

  @Test
  void aShortTokenStopsTheWorkerFromStarting() {
    Exception e =
        assertThrows(Exception.class, () -> start(new JsonObject().put("http_token", "s3cret")));
    assertTrue(
        String.valueOf(e.getMessage()).contains("'http_token' must have at least 16 characters"),
        e.getMessage());
    assertFalse(
        String.valueOf(e.getMessage()).contains("s3cret"),
        "the refused token is not echoed: " + e.getMessage());
  }

  // --- a raw HTTP/1.1 client: the requests are exactly as written ---

  record Response(int status, Map<String, String> headers, String body) {}

  private static Map<String, String> local(int port) {
    return new LinkedHashMap<>(Map.of("Host", "127.0.0.1:" + port));
  }

  private static Map<String, String> withToken(Map<String, String> headers, String token) {
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put("Authorization", "Bearer " + token);
    return h;
  }

  private static Map<String, String> json() {
    return Map.of("Content-Type", "application/json");
  }

  static Response send(
      int port,
      String method,
      String path,
      Map<String, String> headers,
      Map<String, String> more,
      String body)
      throws IOException {
    StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.putAll(more);
    all.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    if (body != null) {
      req.append("Content-Length: ").append(bytes.length).append("\r\n");
    }
    req.append("Connection: close\r\n\r\n");
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(15_000);
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      try {
        out.write(bytes);
        out.flush();
      } catch (IOException refusedMidBody) {
        // the server may answer and close before reading a refused body
      }
      return parse(readAll(s.getInputStream()));
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      for (int n; (n = in.read(buf)) > 0; ) {
        b.write(buf, 0, n);
      }
    } catch (java.net.SocketException reset) {
      // closed after the answer
    }
    return b.toByteArray();
  }

  private static Response parse(byte[] raw) {
    String text = new String(raw, StandardCharsets.UTF_8);
    int end = text.indexOf("\r\n\r\n");
    String[] lines = text.substring(0, end).split("\r\n");
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(
          lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
          lines[i].substring(colon + 1).trim());
    }
    String body = text.substring(end + 4);
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      StringBuilder b = new StringBuilder();
      String rest = body;
      for (int len;
          (len = Integer.parseInt(rest.substring(0, rest.indexOf("\r\n")).trim(), 16)) > 0; ) {
        rest = rest.substring(rest.indexOf("\r\n") + 2);
        b.append(rest, 0, len);
        rest = rest.substring(len + 2);
      }
      body = b.toString();
    }
    return new Response(Integer.parseInt(lines[0].split(" ")[1]), headers, body);
  }

  private JsonObject result(int port, String id) throws IOException {
    return new JsonObject(
        send(port, "GET", "/api/task/result/" + id, local(port), Map.of(), null).body());
  }

  private long totalTasks(int port) throws IOException {
    JsonObject stats =
        new JsonObject(send(port, "GET", "/control/stats", local(port), Map.of(), null).body());
    JsonObject total =
        stats.getJsonObject(stats.fieldNames().iterator().next()).getJsonObject("total");
    return total.stream().mapToLong(e -> ((Number) e.getValue()).longValue()).sum();
  }

  private static long uploadedFiles() throws IOException {
    if (!Files.isDirectory(UPLOADS)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(UPLOADS)) {
      return files.count();
    }
  }
}

package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.BlockedThreadGuard;
import io.celerity.support.Polling;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A worker over TLS: amqps:// through a TLS proxy in front of the shared RabbitMQ, rediss:// to a
 * redis-server of the test's own with {@code tls-port}, certificates made by the test for {@code
 * localhost}. The certificate's name connects (a task sent over HTTP is published, consumed and its
 * result stored over TLS); another name for the same server is refused at start-up.
 */
class TlsWorkerTest {

  private static TlsEndpoints tls;
  private static int amqpsPort;
  private static int redissPort;
  private final Vertx vertx = BlockedThreadGuard.strictVertx();
  private WorkerHarness worker;

  @BeforeAll
  static void endpoints() throws Exception {
    tls = new TlsEndpoints();
    java.net.URI amqp = java.net.URI.create(Brokers.AMQP_URL);
    amqpsPort = tls.tlsProxy(amqp.getHost(), amqp.getPort());
    redissPort = tls.redisTls();
    // Vert.x builds a client's TLS context on its event loop; the JDK's first one in a JVM takes
    // hundreds of milliseconds on a loaded machine (cipher suites, providers), which says nothing
    // of ours
    try (javax.net.ssl.SSLSocket s =
        (javax.net.ssl.SSLSocket)
            io.celerity.transport.Tls.context()
                .getSocketFactory()
                .createSocket("localhost", amqpsPort)) {
      s.startHandshake();
    }
  }

  @AfterAll
  static void close() {
    tls.close();
  }

  @AfterEach
  void stop() throws Exception {
    if (worker != null) {
      worker.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private static String amqps(String host) {
    java.net.URI amqp = java.net.URI.create(Brokers.AMQP_URL);
    return "amqps://" + amqp.getRawUserInfo() + "@" + host + ":" + amqpsPort + amqp.getRawPath();
  }

  private static String rediss(String host, int db) {
    return "rediss://" + host + ":" + redissPort + "/" + db;
  }

  @Test
  void amqpsWithTheCertificatesNameRunsATaskSentOverHttp() throws Exception {
    roundTrip(amqps("localhost"), "memory://");
  }

  @Test
  void redissBrokerAndResultBackendWithTheCertificatesNameRunATask() throws Exception {
    roundTrip(rediss("localhost", 0), rediss("localhost", 1));
  }

  @Test
  void amqpsToANameTheCertificateDoesNotHoldIsRefusedClearly() {
    String error = refused(amqps("127.0.0.1"));
    assertTrue(error.contains("Cannot connect to amqps://guest:**@127.0.0.1:" + amqpsPort), error);
    assertTrue(error.contains("No subject alternative names matching IP address 127.0.0.1"), error);
  }

  @Test
  void redissToANameTheCertificateDoesNotHoldIsRefusedClearly() {
    String error = refused(rediss("127.0.0.1", 0));
    assertTrue(error.contains("Cannot connect to rediss://127.0.0.1:" + redissPort), error);
    assertTrue(error.contains("No subject alternative names matching IP address 127.0.0.1"), error);
  }

  private void roundTrip(String broker, String backend) throws Exception {
    String q = Brokers.uniqueQueue("tls");
    worker = WorkerHarness.start(vertx, WorkerHarness.config(broker, backend, q));
    WebClient http = WebClient.create(vertx);
    JsonObject sent =
        http.post(worker.httpPort(), "127.0.0.1", "/api/task/async-apply/examples.add")
            .putHeader("Authorization", "Bearer " + worker.httpToken())
            .sendJsonObject(
                new JsonObject()
                    .put("args", new io.vertx.core.json.JsonArray().add(20).add(22))
                    .put("queue", q))
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS)
            .bodyAsJsonObject();
    String id = sent.getString("task-id");
    JsonObject[] result = new JsonObject[1];
    Polling.until(
        () -> {
          result[0] =
              http.get(worker.httpPort(), "127.0.0.1", "/api/task/result/" + id)
                  .send()
                  .toCompletionStage()
                  .toCompletableFuture()
                  .get(10, TimeUnit.SECONDS)
                  .bodyAsJsonObject();
          return "SUCCESS".equals(result[0].getString("state"));
        },
        30_000);
    assertEquals(42, result[0].getInteger("result"));
  }

  private String refused(String broker) {
    String q = Brokers.uniqueQueue("tls");
    Exception e =
        assertThrows(
            Exception.class,
            () ->
                worker =
                    WorkerHarness.start(
                        vertx,
                        WorkerHarness.config(broker, "memory://", q)
                            .put("broker_connection_retry_on_startup", false)));
    StringBuilder sb = new StringBuilder();
    for (Throwable c = e; c != null; c = c.getCause()) {
      sb.append(c.getMessage()).append(" <- ");
    }
    return sb.toString();
  }
}

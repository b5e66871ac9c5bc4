package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.WorkerVerticle;
import io.celerity.support.Polling;
import io.celerity.transport.BrokerUnreachableException;
import io.celerity.transport.amqp.AmqpUrl;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Start-up with the broker down: as Celery ({@code broker_connection_retry_on_startup}, {@code
 * broker_connection_max_retries}), the worker keeps trying, says so, is not ready meanwhile, and
 * gives up with a clear message naming the URL (password redacted).
 */
class StartupRetryTest extends AmqpTestBase {

  private final WorkerVerticle verticle = new WorkerVerticle();

  @Override
  protected String queuePrefix() {
    return "startup";
  }

  /**
   * Deploys the worker verticle (not waiting for the broker); it is shut down first after the test.
   */
  private Future<String> deploy(String broker, JsonObject extra) {
    closeAfter(
        () ->
            verticle
                .shutdown(false)
                .toCompletionStage()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS));
    return vertx.deployVerticle(
        verticle,
        new DeploymentOptions()
            .setConfig(
                WorkerHarness.config(broker, Brokers.REDIS_URL, queue)
                    .put("reconnect_max_delay_ms", 200)
                    .mergeIn(extra)));
  }

  private static int ready(int port) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
    return r.statusCode();
  }

  @Test
  void retriesWhileTheBrokerIsDownIsNotReadyMeanwhileAndStartsWhenItComesBack() throws Exception {
    AmqpUrl real = AmqpUrl.parse(Brokers.AMQP_URL);
    TcpProxy proxy = proxy(real.host(), real.port());
    proxy.cut(true); // the broker "is down": connections are closed at once
    Future<String> deployed =
        deploy(
            "amqp://guest:guest@127.0.0.1:" + proxy.port() + "/" + real.vhost(), new JsonObject());

    Polling.until(() -> verticle.httpPort() > 0, 30_000); // the HTTP bridge is up while we retry
    assertEquals(503, ready(verticle.httpPort()), "not ready before the broker connection");
    assertFalse(deployed.isComplete(), "start-up waits for the broker");

    proxy.accept();
    deployed.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    Polling.until(() -> ready(verticle.httpPort()) == 200, 10_000);
  }

  @Test
  void givesUpAfterMaxRetriesNamingTheUrlWithoutThePassword() throws Exception {
    AmqpUrl real = AmqpUrl.parse(Brokers.AMQP_URL);
    TcpProxy proxy = proxy(real.host(), real.port());
    proxy.cut(true);
    Future<String> deployed =
        deploy(
            "amqp://guest:secret-pw@127.0.0.1:" + proxy.port() + "/" + real.vhost(),
            new JsonObject().put("broker_connection_max_retries", 2));
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () -> deployed.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS));
    assertInstanceOf(BrokerUnreachableException.class, e.getCause());
    String message = e.getCause().getMessage();
    assertTrue(
        message.startsWith("Cannot connect to amqp://guest:**@127.0.0.1:" + proxy.port() + "/"),
        message);
    assertFalse(message.contains("secret-pw"), message);
  }

  @Test
  void aWrongVhostIsNamedNotNull() throws Exception {
    AmqpUrl real = AmqpUrl.parse(Brokers.AMQP_URL);
    String vhost = "no-such-vhost-" + queue;
    Future<String> deployed =
        deploy(
            "amqp://"
                + real.user()
                + ":"
                + real.password()
                + "@"
                + real.host()
                + ":"
                + real.port()
                + "/"
                + vhost,
            new JsonObject().put("broker_connection_retry_on_startup", false));
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () -> deployed.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS));
    String message = e.getCause().getMessage();
    assertTrue(message.contains(vhost) && message.contains("not found"), message);
    assertFalse(message.contains("null"), message);
  }
}

package io.celerity.it;

import io.celerity.Addresses;
import io.celerity.WorkerVerticle;
import io.celerity.types.ConsumerStats;
import io.celerity.types.PoolStats;
import io.celerity.types.ResultStats;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;

/** A worker deployed in the test's JVM, as the CLI would deploy it. */
public final class WorkerHarness implements AutoCloseable {

  private final Vertx vertx;
  private final WorkerVerticle worker = new WorkerVerticle();
  private final String deploymentId;

  private WorkerHarness(Vertx vertx, JsonObject config) throws Exception {
    this.vertx = vertx;
    this.deploymentId =
        vertx
            .deployVerticle(worker, new DeploymentOptions().setConfig(config))
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
  }

  /** Base configuration of test workers: a private queue, any free HTTP port. */
  public static JsonObject config(String broker, String backend, String queue) {
    return new JsonObject()
        .put("broker", broker)
        .put("result_backend", backend)
        .put("queues", new io.vertx.core.json.JsonArray().add(queue))
        .put("http_port", 0)
        .put("concurrency", 4)
        .put("hostname", "celerity-test-" + queue + "@localhost")
        .put("heartbeat_interval", 1.0);
  }

  public static WorkerHarness start(Vertx vertx, JsonObject config) throws Exception {
    return new WorkerHarness(vertx, config);
  }

  public int httpPort() {
    return worker.httpPort();
  }

  /** Bearer token of the HTTP bridge (configured or generated). */
  public String httpToken() {
    return worker.httpToken();
  }

  /** Asks a verticle on {@code address} (with no body) and returns its reply. */
  public <T> T ask(String address) throws Exception {
    return vertx
        .eventBus()
        .<T>request(address, null)
        .toCompletionStage()
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS)
        .body();
  }

  public ConsumerStats consumerStats() throws Exception {
    return ask(Addresses.CONSUMER_STATS);
  }

  public PoolStats poolStats() throws Exception {
    return ask(Addresses.POOL_STATS);
  }

  public ResultStats resultStats() throws Exception {
    return ask(Addresses.RESULT_STATS);
  }

  @Override
  public void close() throws Exception {
    worker.shutdown(false).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    vertx
        .undeploy(deploymentId)
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }
}

package io.celerity.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.celerity.it.WorkerHarness;
import io.celerity.support.BlockedThreadGuard;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code celerity health}, the image's health check: 0 while the bridge answers, 1 once it does
 * not.
 */
class HealthCommandTest {

  private static int health(String... args) {
    return new CommandLine(new Main()).execute(args);
  }

  @Test
  void exitsZeroWhileTheWorkerAnswersAndOneOnceItIsGone() throws Exception {
    Vertx vertx = BlockedThreadGuard.strictVertx();
    String q = "health-" + UUID.randomUUID();
    WorkerHarness worker =
        WorkerHarness.start(vertx, WorkerHarness.config("memory://" + q, "memory://", q));
    int port = worker.httpPort();
    Path conf = Files.createTempFile("celerity-health", ".json");
    try {
      Files.writeString(
          conf,
          new JsonObject()
              .put("http_host", "0.0.0.0")
              .put("http_port", port)
              .put("http_token", "0123456789abcdef")
              .encode());
      // a generous timeout: the answer is asserted, not its speed (3 s failed at load 12)
      assertEquals(0, health("health", "--timeout", "30", "--url", "http://127.0.0.1:" + port));
      assertEquals(
          0, health("health", "--ready", "--timeout", "30", "--url", "http://127.0.0.1:" + port));
      assertEquals(
          0,
          health("health", "--timeout", "30", "--config", conf.toString()),
          "0.0.0.0 in the config is asked on 127.0.0.1");
    } finally {
      worker.close();
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
    assertEquals(1, health("health", "--timeout", "2", "--url", "http://127.0.0.1:" + port));
    Files.deleteIfExists(conf);
  }
}

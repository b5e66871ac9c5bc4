package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code celerity call} end to end: the CLI in its own JVM, our worker running the tasks. */
class CallCommandTest {

  private static final String UUID_RE =
      "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
  private static String queue;
  private static Vertx vertx;
  private static WorkerHarness worker;

  @BeforeAll
  static void start() throws Exception {
    queue = Brokers.uniqueQueue("call");
    // Not the strict Vert.x: each call starts a JVM, which starves this worker's loops on a loaded
    // 2-core machine; the worker's own loop discipline is checked by the other tests.
    vertx = Vertx.vertx();
    worker =
        WorkerHarness.start(
            vertx, WorkerHarness.config(Brokers.AMQP_URL, Brokers.REDIS_URL, queue));
  }

  @AfterAll
  static void stop() throws Exception {
    worker.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
    ClientFleetTest.deleteQueue(queue);
  }

  record Run(int exit, List<String> stdout, String stderr) {
    String last() {
      return stdout.isEmpty() ? "" : stdout.get(stdout.size() - 1);
    }
  }

  private static Run call(String... args) throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp",
                System.getProperty("java.class.path"),
                "io.celerity.cli.Main",
                "call"));
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("--broker", Brokers.AMQP_URL, "--queue", queue));
    File out = File.createTempFile("call", ".out");
    File err = File.createTempFile("call", ".err");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err);
    pb.environment().keySet().removeIf(k -> k.startsWith("CELERITY_"));
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("celerity call did not exit");
    }
    Run r =
        new Run(p.exitValue(), Files.readAllLines(out.toPath()), Files.readString(err.toPath()));
    out.delete();
    err.delete();
    return r;
  }

  @Test
  void withoutWaitPrintsTheTaskId() throws Exception {
    Run r = call("examples.add", "--args", "[2, 2]");
    assertEquals(0, r.exit(), r.stderr());
    assertEquals(1, r.stdout().size(), r.stdout().toString());
    assertTrue(r.last().matches(UUID_RE), r.last());
  }

  @Test
  void waitPrintsTheResultAsJson() throws Exception {
    Run r =
        call(
            "examples.echo",
            "--kwargs",
            "{\"value\": {\"a\": [1, 2.5, \"x\"]}}",
            "--result-backend",
            Brokers.REDIS_URL,
            "--wait",
            "60");
    assertEquals(0, r.exit(), r.stderr());
    assertEquals("{\"a\":[1,2.5,\"x\"]}", r.last());
    assertTrue(r.stdout().get(0).matches(UUID_RE), "the id first: " + r.stdout());
  }

  @Test
  void aFailedTaskPrintsTypeAndMessage() throws Exception {
    Run r =
        call(
            "examples.fail",
            "--args",
            "[\"boom\"]",
            "--result-backend",
            Brokers.REDIS_URL,
            "--wait",
            "60");
    assertEquals(1, r.exit(), r.stderr());
    assertEquals("ValueError: boom", r.last());
  }

  @Test
  void aResultNotReadyInTimeIsAnError() throws Exception {
    Run r =
        call(
            "examples.sleep",
            "--args",
            "[3]",
            "--countdown",
            "1",
            "--result-backend",
            Brokers.REDIS_URL,
            "--wait",
            "0.2");
    assertEquals(3, r.exit(), r.stderr());
    assertTrue(r.stderr().contains("timed out"), r.stderr());
  }

  @Test
  void badArgumentsAreRefusedBeforeConnecting() throws Exception {
    Run r = call("examples.add", "--args", "{\"not\": \"a list\"}");
    assertNotEquals(0, r.exit());
    assertTrue(r.stderr().contains("--args must be a JSON list"), r.stderr());
  }
}

package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Python Celery worker (src/test/python/py_examples.py, {@code -P solo}) for mixed-fleet
 * tests.
 */
final class PythonWorker implements AutoCloseable {

  private final Process process;
  private final File log;

  private PythonWorker(Process process, File log) {
    this.process = process;
    this.log = log;
  }

  /** Starts it on {@code queues} (comma-separated) and waits for its "ready." line. */
  static PythonWorker start(String broker, String backend, String queues, Map<String, String> env)
      throws Exception {
    return start("py_examples", "solo", broker, backend, queues, env);
  }

  /**
   * Celery's worker for {@code -A app} (in src/test/python) with pool {@code pool} ({@code -c 1}).
   */
  static PythonWorker start(
      String app,
      String pool,
      String broker,
      String backend,
      String queues,
      Map<String, String> env)
      throws Exception {
    return start(app, pool, broker, backend, queues, env, false);
  }

  /**
   * A worker a monitor sees: task events on ({@code -E}) and worker heartbeats every second, so it
   * shows up on an event monitor (dashboard, Flower API) as Flower would see it.
   */
  static PythonWorker startMonitored(String broker, String backend, String queues)
      throws Exception {
    return start("py_examples", "solo", broker, backend, queues, Map.of(), true);
  }

  private static PythonWorker start(
      String app,
      String pool,
      String broker,
      String backend,
      String queues,
      Map<String, String> env,
      boolean monitored)
      throws Exception {
    File log = File.createTempFile("py-worker", ".log");
    java.util.List<String> cmd =
        new java.util.ArrayList<>(
            java.util.List.of(
                CeleryClient.PYTHON,
                "-m",
                "celery",
                "-A",
                app,
                "worker",
                "-P",
                pool,
                "-c",
                "1",
                "-Q",
                queues,
                "-n",
                "py-" + queues.split(",")[0] + "@%h",
                "-l",
                "INFO",
                "--without-mingle",
                "--without-gossip"));
    cmd.addAll(
        monitored
            ? java.util.List.of("-E", "--heartbeat-interval", "1")
            : java.util.List.of("--without-heartbeat"));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(Path.of("src", "test", "python").toFile())
            .redirectErrorStream(true)
            .redirectOutput(log);
    pb.environment().put("CELERITY_TEST_BROKER", broker);
    pb.environment().put("CELERITY_TEST_BACKEND", backend);
    pb.environment().putAll(env);
    PythonWorker w = new PythonWorker(pb.start(), log);
    Polling.until(() -> w.log().contains("ready.") || !w.process.isAlive(), 30_000);
    assertTrue(w.process.isAlive(), "Python worker died:\n" + w.log());
    return w;
  }

  String log() throws IOException {
    return Files.readString(log.toPath());
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
    log.delete();
  }
}

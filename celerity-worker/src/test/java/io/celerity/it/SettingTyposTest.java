package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code celerity worker} refuses settings it does not know or cannot read, naming the key
 * and the setting meant, instead of starting with a default; a taken HTTP port names the address
 * and the flag. Exit status 2 for a configuration the worker cannot read (as for a bad flag), 1 for
 * a worker that failed to start.
 */
class SettingTyposTest {

  private static final long EXIT_MS = 60_000;

  @TempDir Path dir;

  private static String run(int expectedExit, Map<String, String> env, String... args)
      throws Exception {
    try (WorkerProcess w = WorkerProcess.start(env, args)) {
      int code = w.waitForExit(EXIT_MS);
      String log = w.log();
      assertEquals(expectedExit, code, log);
      return log;
    }
  }

  private Path config(String json) throws Exception {
    Path f = dir.resolve("worker.json");
    Files.writeString(f, json);
    return f;
  }

  @Test
  void aMisspelledKeyInTheConfigFileStopsTheWorker() throws Exception {
    Path f = config("{\"broker\": \"memory://\", \"concurency\": 2}");
    String log = run(2, Map.of(), "--config", f.toString());
    assertTrue(
        log.contains(
            "celerity: unknown setting 'concurency' in " + f + "; did you mean 'concurrency'?"),
        log);
    assertFalse(log.contains("ready."), log);
  }

  @Test
  void aMisspelledVariableStopsTheWorker() throws Exception {
    String log = run(2, Map.of("CELERITY_PREFETCH_MULTIPLER", "8"), "-b", "memory://");
    assertTrue(
        log.contains(
            "celerity: unknown environment variable CELERITY_PREFETCH_MULTIPLER; "
                + "did you mean CELERITY_PREFETCH_MULTIPLIER?"),
        log);
  }

  @Test
  void aValueOfTheWrongTypeStopsTheWorker() throws Exception {
    Path f = config("{\"prefetch_multiplier\": \"four\"}");
    String log = run(2, Map.of(), "--config", f.toString());
    assertTrue(
        log.contains(
            "celerity: setting 'prefetch_multiplier' in "
                + f
                + " must be a whole number, not \"four\""),
        log);
    // a boolean typo in a variable used to mean false
    log = run(2, Map.of("CELERITY_ACKS_LATE", "ture"), "-b", "memory://");
    assertTrue(
        log.contains("celerity: CELERITY_ACKS_LATE=ture: acks_late must be true or false"), log);
    log = run(2, Map.of(), "-b", "memory://", "--pool", "thread");
    assertTrue(
        log.contains(
            "celerity: --pool thread: pool must be one of threads, solo, virtual, process; "
                + "did you mean 'threads'?"),
        log);
  }

  @Test
  void aTakenHttpPortNamesTheAddressAndTheFlag() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      String log =
          run(
              1,
              Map.of(),
              "-b",
              "memory://",
              "--result-backend",
              "memory://",
              "--http-port",
              String.valueOf(port));
      assertTrue(
          log.contains(
              "the HTTP bridge cannot listen on 127.0.0.1:"
                  + port
                  + ": Address already in use; "
                  + "choose another port with --http-port (setting http_port, CELERITY_HTTP_PORT)"),
          log);
      assertFalse(log.contains("\tat "), "no stack trace for a configuration problem:\n" + log);
    }
  }

  @Test
  void withoutExamplesTheWorkerHasNoExampleTasks() throws Exception {
    try (WorkerProcess w =
        WorkerProcess.start(
            "-b",
            "memory://",
            "--result-backend",
            "memory://",
            "--http-port",
            "0",
            "--without-examples")) {
      w.waitForLog("ready.", EXIT_MS);
      assertTrue(w.log().contains("[tasks]"), w.log());
      assertFalse(w.log().contains("examples."), w.log());
    }
  }
}

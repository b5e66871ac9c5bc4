package io.celerity.it;

import com.fasterxml.jackson.core.type.TypeReference;
import io.celerity.protocol.Json;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real Python Celery client (Debian's celery under /usr/bin/python3), driven through
 * src/test/python/celery_client.py. Each call is one Python process.
 */
public final class CeleryClient {

  public static final String PYTHON = "/usr/bin/python3";
  private static final Path DRIVER = Path.of("src", "test", "python", "celery_client.py");

  private final String broker;
  private final String backend;
  private final String queue;
  private final Map<String, Object> queueArguments;

  public CeleryClient(String broker, String backend, String queue) {
    this(broker, backend, queue, Map.of());
  }

  /**
   * A client whose queue is declared with {@code queueArguments} (e.g. {@code x-queue-type:
   * quorum}).
   */
  public CeleryClient(
      String broker, String backend, String queue, Map<String, Object> queueArguments) {
    this.broker = broker;
    this.backend = backend;
    this.queue = queue;
    this.queueArguments = queueArguments;
  }

  /** One call as the driver takes it. */
  public static Map<String, Object> call(String task, List<?> args, Map<String, ?> kwargs) {
    return Map.of("task", task, "args", args, "kwargs", kwargs);
  }

  /** Sends every call and waits for each; one result object per call. */
  public List<Map<String, Object>> call(List<Map<String, Object>> calls)
      throws IOException, InterruptedException {
    return run("call", "--calls", jsonArg(calls));
  }

  /** Sends without waiting; one {@code {"id": ...}} per call. */
  public List<Map<String, Object>> send(List<Map<String, Object>> calls)
      throws IOException, InterruptedException {
    return run("send", "--calls", jsonArg(calls));
  }

  /** Waits for the results of ids sent earlier. */
  public List<Map<String, Object>> get(List<String> ids, double timeoutSeconds)
      throws IOException, InterruptedException {
    return run("get", "--ids", jsonArg(ids), "--timeout", Double.toString(timeoutSeconds));
  }

  /** A remote-control broadcast ({@code app.control.broadcast}); the replies, one map per node. */
  public List<Map<String, Object>> control(String method, Map<String, Object> arguments)
      throws IOException, InterruptedException {
    return exec(
        List.of(
            PYTHON,
            Path.of("src", "test", "python", "celery_control.py").toString(),
            "--broker",
            broker,
            method,
            "--arguments",
            Json.encodeToString(arguments)));
  }

  /**
   * A remote-control command for one node only (tests must not change other workers on the broker).
   */
  public List<Map<String, Object>> control(
      String method, Map<String, Object> arguments, String destination)
      throws IOException, InterruptedException {
    return exec(
        List.of(
            PYTHON,
            Path.of("src", "test", "python", "celery_control.py").toString(),
            "--broker",
            broker,
            method,
            "--arguments",
            Json.encodeToString(arguments),
            "--destination",
            destination));
  }

  /**
   * A JSON argument; a large one goes through a file ({@code @path}): one argument is limited to
   * 128 KiB.
   */
  private static String jsonArg(Object value) throws IOException {
    String json = Json.encodeToString(value);
    if (json.length() < 64 * 1024) {
      return json;
    }
    File f = File.createTempFile("celery-client", ".json");
    f.deleteOnExit();
    java.nio.file.Files.writeString(f.toPath(), json, StandardCharsets.UTF_8);
    return "@" + f.getAbsolutePath();
  }

  private List<Map<String, Object>> run(String... args) throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(List.of(PYTHON, DRIVER.toString(), "--broker", broker, "--queue", queue));
    if (backend != null) {
      cmd.add("--backend");
      cmd.add(backend);
    }
    if (!queueArguments.isEmpty()) {
      cmd.add("--queue-arguments");
      cmd.add(Json.encodeToString(queueArguments));
    }
    cmd.addAll(List.of(args));
    return exec(cmd);
  }

  private static List<Map<String, Object>> exec(List<String> cmd)
      throws IOException, InterruptedException {
    File err = File.createTempFile("celery-client", ".err");
    Process p = new ProcessBuilder(cmd).redirectError(err).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("celery_client.py did not finish");
    }
    if (p.exitValue() != 0) {
      throw new IOException(
          "celery_client.py failed ("
              + p.exitValue()
              + "): "
              + java.nio.file.Files.readString(err.toPath(), StandardCharsets.UTF_8));
    }
    err.delete();
    return Json.MAPPER.readValue(out, new TypeReference<>() {});
  }
}

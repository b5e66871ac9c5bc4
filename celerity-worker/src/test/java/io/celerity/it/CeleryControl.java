package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.core.type.TypeReference;
import io.celerity.protocol.Json;
import io.celerity.support.Polling;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Debian's celery as a remote-control and events client: the {@code celery} CLI ({@code python3 -m
 * celery -A ctlapp ...}), Celery's {@code app.control} (control_driver.py) and Celery's event
 * receiver (event_capture.py), all from src/test/python.
 */
public final class CeleryControl {

  private static final File PY_DIR = new File("src/test/python");
  private final String broker;

  public CeleryControl(String broker) {
    this.broker = broker;
  }

  /** Output of one {@code celery} CLI run. */
  public record CliResult(int exitCode, String stdout, String stderr) {}

  /** {@code celery -A ctlapp <args>}. */
  public CliResult cli(String... args) throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(List.of(CeleryClient.PYTHON, "-m", "celery", "-A", "ctlapp"));
    cmd.addAll(List.of(args));
    return run(cmd, 60);
  }

  /**
   * {@code celery -A ctlapp <args> --json}, as {node: reply}: {@code inspect} prints that object,
   * {@code control} the list of replies, which is merged here.
   */
  public Map<String, Object> cliJson(String... args) throws IOException, InterruptedException {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--json");
    CliResult r = cli(all.toArray(String[]::new));
    if (r.stdout().isBlank()) {
      throw new AssertionError(
          "celery "
              + String.join(" ", args)
              + " printed nothing (exit "
              + r.exitCode()
              + "): "
              + r.stderr());
    }
    Object parsed = Json.MAPPER.readValue(r.stdout(), Object.class);
    Map<String, Object> out = new LinkedHashMap<>();
    if (parsed instanceof List<?> replies) {
      replies.forEach(reply -> out.putAll(cast(reply)));
    } else {
      out.putAll(cast(parsed));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Object o) {
    return (Map<String, Object>) o;
  }

  /** One remote-control request for {@link #broadcast}. */
  public static Map<String, Object> request(
      String method, Map<String, ?> arguments, List<String> destination) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", method);
    m.put("arguments", arguments);
    m.put("destination", destination);
    return m;
  }

  /** Runs requests through {@code app.control.broadcast}; per request the replies collected. */
  public List<List<Map<String, Object>>> broadcast(List<Map<String, Object>> requests)
      throws IOException, InterruptedException {
    CliResult r =
        run(List.of(CeleryClient.PYTHON, "control_driver.py", Json.encodeToString(requests)), 120);
    if (r.exitCode() != 0) {
      throw new IOException("control_driver.py failed: " + r.stderr());
    }
    return Json.MAPPER.readValue(r.stdout(), new TypeReference<>() {});
  }

  /**
   * Starts Celery's event receiver; returns once it consumes (and has broadcast {@code heartbeat}).
   */
  public EventCapture events(String hostname, double seconds, String... stopTypes)
      throws Exception {
    File out = File.createTempFile("events", ".json");
    File err = File.createTempFile("events", ".err");
    ProcessBuilder pb =
        new ProcessBuilder(
                CeleryClient.PYTHON,
                "event_capture.py",
                hostname,
                Double.toString(seconds),
                String.join(",", stopTypes))
            .directory(PY_DIR)
            .redirectOutput(out)
            .redirectError(err);
    pb.environment().put("CTL_BROKER", broker);
    Process p = pb.start();
    Polling.until(() -> Files.readString(err.toPath()).contains("ready") || !p.isAlive(), 20_000);
    if (!p.isAlive() && p.exitValue() != 0) {
      throw new IOException("event_capture.py failed: " + Files.readString(err.toPath()));
    }
    return new EventCapture(p, out, err);
  }

  /** A running event receiver. */
  public static final class EventCapture {
    private final Process process;
    private final File out;
    private final File err;

    EventCapture(Process process, File out, File err) {
      this.process = process;
      this.out = out;
      this.err = err;
    }

    /**
     * Waits for the receiver to stop (deadline or all stop types seen); the events of the worker.
     */
    public List<Map<String, Object>> events() throws Exception {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("event_capture.py did not stop");
      }
      if (process.exitValue() != 0) {
        throw new IOException("event_capture.py failed: " + Files.readString(err.toPath()));
      }
      return Json.MAPPER.readValue(out, new TypeReference<>() {});
    }
  }

  private CliResult run(List<String> cmd, int timeoutSeconds)
      throws IOException, InterruptedException {
    File out = File.createTempFile("celery-ctl", ".out");
    File err = File.createTempFile("celery-ctl", ".err");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).directory(PY_DIR).redirectOutput(out).redirectError(err);
    pb.environment().put("CTL_BROKER", broker);
    Process p = pb.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(cmd + " did not finish");
    }
    CliResult r =
        new CliResult(
            p.exitValue(),
            Files.readString(out.toPath(), StandardCharsets.UTF_8),
            Files.readString(err.toPath(), StandardCharsets.UTF_8));
    out.delete();
    err.delete();
    return r;
  }

  /** A reply value that must be there, as a JSON object. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    assertNotNull(o);
    return (Map<String, Object>) o;
  }

  /** A reply value that must be there, as a list of JSON objects. */
  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Object o) {
    assertNotNull(o);
    return (List<Map<String, Object>>) o;
  }
}

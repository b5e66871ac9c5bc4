package io.celerity.it;

import com.fasterxml.jackson.core.type.TypeReference;
import io.celerity.protocol.Json;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Canvas scenarios built by the real Python client (src/test/python/canvas_client.py), one process each. */
final class CanvasClient {

  private final String broker;
  private final String backend;
  private final String queue;

  CanvasClient(String broker, String backend, String queue) {
    this.broker = broker;
    this.backend = backend;
    this.queue = queue;
  }

  Map<String, Object> run(String scenario) throws IOException, InterruptedException {
    return run(scenario, null);
  }

  Map<String, Object> run(String scenario, String arg) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(CeleryClient.PYTHON, "src/test/python/canvas_client.py", "--broker", broker,
      "--backend", backend, "--queue", queue));
    if (arg != null) {
      cmd.addAll(List.of("--arg", arg));
    }
    cmd.add(scenario);
    File err = File.createTempFile("canvas-client", ".err");
    Process p = new ProcessBuilder(cmd).redirectError(err).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("canvas_client.py " + scenario + " did not finish");
    }
    String stderr = Files.readString(err.toPath(), StandardCharsets.UTF_8);
    err.delete();
    if (p.exitValue() != 0) {
      throw new IOException("canvas_client.py " + scenario + " failed (" + p.exitValue() + "): " + stderr);
    }
    return Json.MAPPER.readValue(out, new TypeReference<>() {
    });
  }
}

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

/**
 * Canvas scenarios built by the real Python client (src/test/python/canvas_client.py), one process
 * each.
 */
final class CanvasClient {

  /** What Celery 5.2.6's own worker returns for canvas_client.py's fidelity scenario. */
  static final Map<String, Object> FIDELITY = fidelity();

  private static Map<String, Object> fidelity() {
    Map<String, Object> f = new java.util.TreeMap<>();
    f.put("chord_task_group", List.of(12, 13));
    f.put("group_chord_group", List.of(13, 14));
    f.put("task_chord_task", 14);
    f.put("nested_chord", 12);
    f.put("nested_chord_group", 12);
    f.put("chord_body_chain", 60);
    f.put("chord_body_group", List.of(6, List.of(2, 4)));
    f.put("chord_empty_header", 0);
    f.put("chord_single_header", 2);
    f.put("chain_ends_in_chord", 7);
    f.put("chain_of_groups", List.of(8, 9));
    f.put("chain_none_step", null);
    f.put("replace_in_chain", 30);
    f.put("replace_with_chain", 7);
    f.put("replace_with_group", List.of(2, 4));
    f.put("replace_in_chord", 12);
    f.put("map", List.of(3, 7));
    f.put("starmap", List.of(3, 7));
    f.put("chunks", List.of(List.of(0, 2), List.of(4, 6), List.of(8)));
    List<Object> member = java.util.Arrays.asList(java.util.Arrays.asList("id", null), null);
    f.put(
        "chunks_task",
        java.util.Arrays.asList(
            java.util.Arrays.asList("id", null), List.of(member, member, member)));
    f.put("chunks_task_joined", List.of(List.of(0, 2), List.of(4, 6), List.of(8)));
    return f;
  }

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
    List<String> cmd =
        new ArrayList<>(
            List.of(
                CeleryClient.PYTHON,
                "src/test/python/canvas_client.py",
                "--broker",
                broker,
                "--backend",
                backend,
                "--queue",
                queue));
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
      throw new IOException(
          "canvas_client.py " + scenario + " failed (" + p.exitValue() + "): " + stderr);
    }
    return Json.MAPPER.readValue(out, new TypeReference<>() {});
  }
}

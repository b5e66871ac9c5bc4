package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.celerity.support.ProjectFiles;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The dashboard in headless Chromium (Debian's {@code chromium}, installed by
 * scripts/setup-services.sh) against a real worker and a real Python Celery worker on one broker:
 * the page shows both workers and their finished tasks, and its screenshot goes to docs/images.
 */
class DashboardTest extends AmqpTestBase {

  static final Path SCREENSHOT = ProjectFiles.path("docs/images/dashboard.png");

  @Override
  protected String queuePrefix() {
    return "dash";
  }

  @Test
  void pageShowsTheMixedFleetAndFinishedTasks() throws Exception {
    startWorker(
        new JsonObject()
            .put("task_events", true)
            .put("hostname", "celerity@" + queue)
            .put("http_token", "dash-token-0123456789"));
    String pyQueue = queue + "-py";
    try (PythonWorker py =
        PythonWorker.startMonitored(Brokers.AMQP_URL, Brokers.REDIS_URL, pyQueue)) {
      List<Map<String, Object>> ours = new ArrayList<>();
      for (int i = 0; i < 24; i++) {
        ours.add(CeleryClient.call("examples.add", List.of(i, i), Map.of()));
      }
      for (int i = 0; i < 8; i++) {
        ours.add(CeleryClient.call("examples.sleep", List.of(0.05 * i), Map.of()));
      }
      ours.add(CeleryClient.call("examples.fail", List.of("disk full"), Map.of()));
      client.call(ours);
      List<Map<String, Object>> theirs = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        theirs.add(CeleryClient.call("examples.mul", List.of(i, 3), Map.of()));
      }
      new CeleryClient(Brokers.AMQP_URL, Brokers.REDIS_URL, pyQueue).call(theirs);
      // something running and something scheduled while the page is open
      Map<String, Object> later =
          new HashMap<>(CeleryClient.call("examples.add", List.of(40, 2), Map.of()));
      later.put("options", Map.of("countdown", 300));
      client.send(List.of(CeleryClient.call("examples.sleep", List.of(60), Map.of()), later));

      String url = "http://127.0.0.1:" + worker.httpPort() + "/";
      String[] dom = new String[1];
      Polling.until(
          () -> {
            dom[0] = chromium("--dump-dom", url);
            return dom[0].contains("celerity@" + queue)
                && dom[0].contains("py-" + pyQueue + "@")
                && dom[0].contains("class=\"state SUCCESS\"")
                && dom[0].contains("class=\"state FAILURE\"")
                && dom[0].contains("<td>active</td>")
                && dom[0].contains("<td>scheduled</td>");
          },
          60_000);
      assertTrue(dom[0].contains("examples.mul"), "the Python worker's tasks are listed");
      assertTrue(dom[0].contains("ValueError('disk full')"), "exceptions are shown");
      assertTrue(dom[0].contains("<polyline"), "throughput is plotted");
      assertTrue(dom[0].contains("<rect"), "runtime percentiles are plotted");

      Files.createDirectories(SCREENSHOT.getParent());
      Files.deleteIfExists(SCREENSHOT);
      chromium(
          "--screenshot=" + SCREENSHOT.toAbsolutePath(),
          "--window-size=1440,1500",
          "--hide-scrollbars",
          url);
      assertTrue(Files.size(SCREENSHOT) > 10_000, "screenshot written");
    }
  }

  /**
   * Runs headless Chromium once; the page's timers run on virtual time, so it has polled the bridge
   * a few times.
   */
  static String chromium(String... args) throws Exception {
    Path profile = Files.createTempDirectory("chromium-profile");
    // niced: the browser must not starve the worker's event loops on a small machine
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "nice",
                "-n",
                "19",
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--user-data-dir=" + profile,
                "--virtual-time-budget=5000"));
    cmd.addAll(List.of(args));
    File out = File.createTempFile("chromium", ".out");
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(out)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "chromium finished");
      assertEquals(0, p.exitValue(), "chromium exit status");
      return Files.readString(out.toPath());
    } finally {
      p.destroyForcibly();
      out.delete();
      try (var files = Files.walk(profile)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }
}

package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Remote control and events on the Redis transport, ending with {@code celery control shutdown} of
 * a worker process.
 */
class RedisControlTest extends RedisTestBase {

  @Override
  protected String queuePrefix() {
    return "rctl";
  }

  @Test
  void inspectEventsAndRemoteShutdownOnRedis() throws Exception {
    String node = "celerity-" + queue + "@localhost";
    CeleryControl ctl = new CeleryControl(brokerUrl());
    try (WorkerProcess worker =
        WorkerProcess.start(
            "--broker",
            brokerUrl(),
            "--result-backend",
            resultsUrl(),
            "-Q",
            queue,
            "-n",
            node,
            "--http-port",
            "0",
            "-E",
            "-c",
            "2")) {
      worker.waitForLog(node + " ready.", 60_000);
      assertEquals(Map.of("ok", "pong"), ctl.cliJson("inspect", "ping", "-d", node).get(node));
      assertEquals(
          queue,
          CeleryControl.list(ctl.cliJson("inspect", "active_queues", "-d", node).get(node))
              .get(0)
              .get("name"));

      CeleryControl.EventCapture capture =
          ctl.events(
              node, 20, "worker-heartbeat", "task-received", "task-started", "task-succeeded");
      String id =
          (String)
              client
                  .send(List.of(CeleryClient.call("examples.add", List.of(20, 22), Map.of())))
                  .get(0)
                  .get("id");
      List<Map<String, Object>> events = capture.events();
      assertTrue(
          events.stream()
              .anyMatch(
                  e ->
                      "task-succeeded".equals(e.get("type"))
                          && id.equals(e.get("uuid"))
                          && "42".equals(e.get("result"))),
          events.toString());

      CeleryControl.EventCapture offline = ctl.events(node, 30, "worker-offline");
      // shutdown never replies: the CLI reports that nobody answered, as with a Python worker
      CeleryControl.CliResult r = ctl.cli("control", "shutdown", "-d", node, "--timeout", "0.5");
      assertTrue(r.stderr().contains("No nodes replied"), r.stderr());
      assertEquals(0, worker.waitForExit(30_000));
      assertTrue(offline.events().stream().anyMatch(e -> "worker-offline".equals(e.get("type"))));
    }
  }
}

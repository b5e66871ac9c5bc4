package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM (Kubernetes stopping a pod) while a task runs: the worker stops consuming, lets the task
 * finish, writes its result, hands tasks it had only reserved back to the broker, and exits 0.
 */
class WarmShutdownTest extends AmqpTestBase {

  @Override
  protected String queuePrefix() {
    return "shutdown";
  }

  @Test
  void sigtermFinishesRunningTaskAndRequeuesReserved() throws Exception {
    String sleepId;
    try (WorkerProcess worker =
        WorkerProcess.start(
            "-b",
            Brokers.AMQP_URL,
            "--result-backend",
            Brokers.REDIS_URL,
            "-Q",
            queue,
            "-c",
            "1",
            "--http-port",
            "0",
            "-n",
            "shutdown-test@localhost")) {
      worker.waitForLog("shutdown-test@localhost ready.", 60_000);
      List<Map<String, Object>> sent =
          client.send(
              List.of(
                  CeleryClient.call("examples.sleep", List.of(2), Map.of()),
                  CeleryClient.call("examples.add", List.of(1, 2), Map.of())));
      sleepId = (String) sent.get(0).get("id");
      worker.waitForLog("Task examples.sleep[" + sleepId + "] received", 20_000);
      worker.waitForLog("Task examples.add[" + sent.get(1).get("id") + "] received", 20_000);

      worker.terminate();
      assertEquals(0, worker.waitForExit(60_000), worker.log());
      assertTrue(worker.log().contains("Warm shutdown"), worker.log());
      assertTrue(
          worker.log().contains("Task examples.sleep[" + sleepId + "] succeeded"), worker.log());
    }
    // The running task's result was written before the worker exited.
    Map<String, Object> r = client.get(List.of(sleepId), 5).get(0);
    assertEquals("SUCCESS", r.get("state"));
    assertEquals(2, r.get("result"));
    try (Amqp amqp = new Amqp()) {
      // The reserved (never started) add went back to the queue for another worker.
      assertEquals(1, amqp.ready(queue));
    }
  }
}

package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.canvas.Canvas;
import io.celerity.canvas.Launch;
import io.celerity.canvas.Signature;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.json.JsonArray;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A Python Celery worker and ours completing the same chords, and a canvas built in Java run by
 * both.
 */
class CanvasFleetTest extends AmqpTestBase {

  @Override
  protected String queuePrefix() {
    return "canvas-fleet";
  }

  @Test
  @SuppressWarnings("unchecked")
  void pythonAndOurWorkerCompleteChordsTogether() throws Exception {
    String shared = queue;
    String pyQ = shared + "-py";
    String ourQ = shared + "-ours";
    closeAfter(
        () -> {
          try (Amqp amqp = new Amqp()) {
            amqp.delete(pyQ);
            amqp.delete(ourQ);
          }
        });
    try (PythonWorker py =
        PythonWorker.start(
            Brokers.AMQP_URL,
            Brokers.REDIS_URL,
            shared + "," + pyQ,
            Map.of("CELERITY_TEST_DEFAULT_QUEUE", shared))) {
      try (WorkerHarness ours =
          WorkerHarness.start(
              vertx,
              WorkerHarness.config(Brokers.AMQP_URL, Brokers.REDIS_URL, shared)
                  .put("queues", new JsonArray().add(shared).add(ourQ))
                  .put("task_default_queue", shared))) {
        CanvasClient canvas = new CanvasClient(Brokers.AMQP_URL, Brokers.REDIS_URL, shared);
        assertEquals(9900, canvas.run("chord").get("ok"), "a chord whose members both workers ran");
        long ourTasks = ours.resultStats().succeeded();
        assertTrue(
            ourTasks > 0 && ourTasks < 101,
            "both workers took header tasks (ours " + ourTasks + ")");

        Map<String, Object> cross =
            canvas.run("cross_chords", new JsonArray().add(ourQ).add(pyQ).encode());
        assertEquals(
            3,
            ((Map<String, Object>) cross.get("a")).get("ok"),
            "Python joined, our worker ran the body: " + cross);
        assertEquals(
            5,
            ((Map<String, Object>) cross.get("b")).get("ok"),
            "we joined, Python ran the body: " + cross);

        // issue 12's canvases with both workers taking every step from the shared queue
        long before = ours.resultStats().succeeded();
        assertEquals(
            CanvasClient.FIDELITY,
            canvas.run("fidelity"),
            "canvases whose steps ran on both workers");
        assertTrue(ours.resultStats().succeeded() > before, "our worker took steps");

        // a canvas built with the Java builder, started on the Python worker's queue
        Signature flow =
            Canvas.chain(
                Signature.of("examples.add", 1, 2),
                Canvas.chord(
                    List.of(Signature.of("examples.mul", 2), Signature.of("examples.mul", 3)),
                    Signature.of("examples.xsum")),
                Signature.of("examples.mul", 10));
        Launch launch = Launch.of(flow, "gen1@java", pyQ);
        try (RedisCli redis = new RedisCli(Brokers.REDIS_URL);
            Amqp amqp = new Amqp()) {
          launch
              .chordSizes()
              .forEach((gid, n) -> send(redis, "SET", "celery-taskset-meta-" + gid + ".s", n));
          for (OutgoingMessage m : launch.messages()) {
            amqp.publish(m.routingKey(), m.contentType(), m.headers(), m.body());
          }
        }
        List<Map<String, Object>> r = client.get(List.of(launch.id()), 60);
        assertEquals(150, r.get(0).get("result"), r.toString()); // (3*2 + 3*3) * 10
      }
    }
  }

  private static void send(RedisCli redis, String cmd, Object... args) {
    try {
      redis.send(cmd, args);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}

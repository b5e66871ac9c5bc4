package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.canvas.Canvas;
import io.celerity.canvas.Signature;
import io.celerity.client.AsyncResult;
import io.celerity.client.CelerityClient;
import io.celerity.client.ClientOptions;
import io.celerity.client.GroupResult;
import io.celerity.client.ResultTimeoutException;
import io.celerity.client.SendOptions;
import io.celerity.client.TaskFailedException;
import io.celerity.protocol.IsoTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java client against Celery's own Python worker (RabbitMQ broker, Redis results): results,
 * failures as typed exceptions, countdown, revoke, chain, group and chord.
 */
class ClientInteropTest {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static String queue;
  private static PythonWorker python;
  private static CelerityClient client;

  @BeforeAll
  static void start() throws Exception {
    queue = Brokers.uniqueQueue("client-py");
    python =
        PythonWorker.start(
            Brokers.AMQP_URL,
            Brokers.REDIS_URL,
            queue,
            Map.of("CELERITY_TEST_DEFAULT_QUEUE", queue));
    client =
        CelerityClient.connect(
            ClientOptions.of(Brokers.AMQP_URL, Brokers.REDIS_URL).withDefaultQueue(queue));
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (python != null) {
      python.close();
    }
    try (Amqp amqp = new Amqp()) {
      amqp.delete(queue);
    }
  }

  @Test
  void sendAndGet() {
    AsyncResult r = client.send("examples.add", List.of(2, 2), Map.of(), null);
    assertEquals(4, r.get(WAIT));
    assertEquals("SUCCESS", r.state());
    assertTrue(r.ready());
    assertEquals(
        Map.of("a", List.of(1, "x")),
        client.send("examples.echo", Map.of("a", List.of(1, "x"))).get(WAIT));
    assertEquals(
        7,
        client
            .send("examples.add", List.of(), Map.of("x", 3, "y", 4), null)
            .get(WAIT, Integer.class));
  }

  @Test
  void aFailureIsATypedException() {
    AsyncResult r = client.send("examples.fail", "boom");
    TaskFailedException e = assertThrows(TaskFailedException.class, () -> r.get(WAIT));
    assertEquals("ValueError", e.excType());
    assertEquals("builtins", e.excModule());
    assertEquals(List.of("boom"), e.excMessage());
    assertEquals("ValueError: boom", e.getMessage());
    assertTrue(e.traceback().contains("ValueError"), e.traceback());
    assertEquals("FAILURE", r.state());
  }

  @Test
  void futureVariantsDoNotBlock() throws Exception {
    Object v =
        client
            .sendAsync("examples.mul", List.of(6, 7), Map.of(), null)
            .compose(r -> r.result(WAIT))
            .toCompletionStage()
            .toCompletableFuture()
            .get();
    assertEquals(42, v);
  }

  @Test
  void countdownRunsNoEarlierThanItsEta() {
    Instant sent = Instant.now();
    AsyncResult r =
        client.send("examples.add", List.of(1, 1), Map.of(), SendOptions.with().countdown(2));
    assertEquals(2, r.get(WAIT));
    Map<String, Object> doc = r.document(WAIT).toCompletionStage().toCompletableFuture().join();
    Instant done = IsoTime.parse(doc.get("date_done").toString());
    assertTrue(!done.isBefore(sent.plusSeconds(2)), "done " + done + ", sent " + sent);
  }

  @Test
  void aTimeoutIsCelerysTimeoutError() {
    AsyncResult r = client.send("examples.sleep", List.of(3), Map.of(), null);
    assertThrows(ResultTimeoutException.class, () -> r.get(Duration.ofMillis(200)));
    assertEquals(3, r.get(WAIT), "the same result can still be waited for");
  }

  @Test
  void revokedBeforeItRuns() {
    AsyncResult r =
        client.send("examples.add", List.of(1, 1), Map.of(), SendOptions.with().countdown(3));
    r.revoke(false);
    TaskFailedException e = assertThrows(TaskFailedException.class, () -> r.get(WAIT));
    assertEquals("REVOKED", e.state());
    assertEquals("TaskRevokedError", e.excType());
  }

  @Test
  void chain() {
    AsyncResult r =
        client.delay(
            Canvas.chain(
                Signature.of("examples.add", 1, 2),
                Signature.of("examples.mul", 10),
                Signature.of("examples.add", 5)));
    assertEquals(35, r.get(WAIT));
  }

  @Test
  void linkCallback() {
    AsyncResult r =
        client.send(
            "examples.add",
            List.of(1, 2),
            Map.of(),
            SendOptions.with()
                .link(Signature.of("examples.mul", 10).set("task_id", "link-" + queue)));
    assertEquals(3, r.get(WAIT));
    assertEquals(30, client.result("link-" + queue).get(WAIT));
  }

  @Test
  void group() {
    GroupResult g =
        client.applyGroup(
            Canvas.group(
                Signature.of("examples.add", 1, 1),
                Signature.of("examples.add", 2, 2),
                Signature.of("examples.mul", 3, 3)));
    assertEquals(List.of(2, 4, 9), g.get(WAIT));
    assertEquals(3, g.completedCount());
    GroupResult failing =
        client.applyGroup(
            Canvas.group(Signature.of("examples.add", 1, 1), Signature.of("examples.fail", "x")));
    assertEquals(
        "ValueError: x",
        assertThrows(TaskFailedException.class, () -> failing.get(WAIT)).getMessage());
  }

  @Test
  void chord() {
    AsyncResult r =
        client.delay(
            Canvas.chord(
                List.of(Signature.of("examples.add", 1, 1), Signature.of("examples.add", 2, 2)),
                Signature.of("examples.xsum")));
    assertEquals(6, r.get(WAIT));
  }
}

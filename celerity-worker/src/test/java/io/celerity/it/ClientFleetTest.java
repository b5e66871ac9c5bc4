package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.canvas.Canvas;
import io.celerity.canvas.Signature;
import io.celerity.client.AsyncResult;
import io.celerity.client.CelerityClient;
import io.celerity.client.ClientOptions;
import io.celerity.client.TaskFailedException;
import io.celerity.support.Polling;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * The Java client with the other result paths and workers: rpc:// and the Redis broker against
 * Celery's Python worker, and our own worker (on a strict Vert.x that fails the test when an event
 * loop blocks; the client shares it).
 */
class ClientFleetTest {

  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void rpcResultsFromCelerysWorker() throws Exception {
    String queue = Brokers.uniqueQueue("client-rpc");
    try (PythonWorker python =
            PythonWorker.start(
                Brokers.AMQP_URL, "rpc://", queue, Map.of("CELERITY_TEST_DEFAULT_QUEUE", queue));
        CelerityClient client =
            CelerityClient.connect(
                ClientOptions.of(Brokers.AMQP_URL, "rpc://").withDefaultQueue(queue))) {
      assertEquals(4, client.send("examples.add", 2, 2).get(WAIT));
      TaskFailedException e =
          assertThrows(
              TaskFailedException.class, () -> client.send("examples.fail", "rpc boom").get(WAIT));
      assertEquals("ValueError", e.excType());
      assertEquals(List.of("rpc boom"), e.excMessage());
      // a chain's last step is sent by the worker: its result still comes back to our reply queue
      assertEquals(
          30,
          client
              .delay(
                  Canvas.chain(
                      Signature.of("examples.add", 1, 2), Signature.of("examples.mul", 10)))
              .get(WAIT));
      assertEquals(
          List.of(2, 4),
          client
              .applyGroup(
                  Canvas.group(
                      Signature.of("examples.add", 1, 1), Signature.of("examples.add", 2, 2)))
              .get(WAIT));
      AsyncResult early = client.send("examples.add", 5, 5);
      assertEquals(10, early.get(WAIT));
      assertEquals("SUCCESS", early.state(), "the state seen on the reply queue");
      ExecutionException chord =
          assertThrows(
              ExecutionException.class,
              () ->
                  client
                      .applyAsyncFuture(
                          Canvas.chord(
                              List.of(Signature.of("examples.add", 1, 1)),
                              Signature.of("examples.xsum")),
                          null)
                      .toCompletionStage()
                      .toCompletableFuture()
                      .get());
      assertTrue(
          chord.getCause().getMessage().contains("does not support chords"),
          chord.getCause().toString());
    } finally {
      deleteQueue(queue);
    }
  }

  @Test
  void redisBrokerWithCelerysWorker() throws Exception {
    String queue = Brokers.uniqueQueue("client-redis");
    try (PythonWorker python =
            PythonWorker.start(
                Brokers.REDIS_BROKER_URL,
                Brokers.REDIS_RESULTS_URL,
                queue,
                Map.of("CELERITY_TEST_DEFAULT_QUEUE", queue));
        CelerityClient client =
            CelerityClient.connect(
                ClientOptions.of(Brokers.REDIS_BROKER_URL, Brokers.REDIS_RESULTS_URL)
                    .withDefaultQueue(queue))) {
      assertEquals(4, client.send("examples.add", 2, 2).get(WAIT));
      assertEquals(
          6,
          client
              .delay(
                  Canvas.chord(
                      List.of(
                          Signature.of("examples.add", 1, 1), Signature.of("examples.add", 2, 2)),
                      Signature.of("examples.xsum")))
              .get(WAIT));
      assertEquals(
          "ValueError: r",
          assertThrows(TaskFailedException.class, () -> client.send("examples.fail", "r").get(WAIT))
              .getMessage());
    }
  }

  @Test
  void ourWorkerOnRabbitMqWithRedisResults() throws Exception {
    String queue = Brokers.uniqueQueue("client-ours");
    Vertx vertx = io.celerity.support.BlockedThreadGuard.strictVertx();
    try (WorkerHarness worker =
            WorkerHarness.start(
                vertx,
                WorkerHarness.config(Brokers.AMQP_URL, Brokers.REDIS_URL, queue)
                    .put("task_default_queue", queue));
        CelerityClient client =
            CelerityClient.connect(
                ClientOptions.of(Brokers.AMQP_URL, Brokers.REDIS_URL)
                    .withDefaultQueue(queue)
                    .withVertx(vertx))) {
      assertEquals(4, client.send("examples.add", 2, 2).get(WAIT));
      TaskFailedException e =
          assertThrows(
              TaskFailedException.class, () -> client.send("examples.fail", "ours").get(WAIT));
      assertEquals("ValueError", e.excType());
      assertEquals(
          35,
          client
              .delay(
                  Canvas.chain(
                      Signature.of("examples.add", 1, 2),
                      Signature.of("examples.mul", 10),
                      Signature.of("examples.add", 5)))
              .get(WAIT));
      assertEquals(
          List.of(2, 4),
          client
              .applyGroup(
                  Canvas.group(
                      Signature.of("examples.add", 1, 1), Signature.of("examples.add", 2, 2)))
              .get(WAIT));
      assertEquals(
          6,
          client
              .delay(
                  Canvas.chord(
                      List.of(
                          Signature.of("examples.add", 1, 1), Signature.of("examples.add", 2, 2)),
                      Signature.of("examples.xsum")))
              .get(WAIT));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
      deleteQueue(queue);
    }
  }

  @Test
  void ourWorkerWithRpcResults() throws Exception {
    String queue = Brokers.uniqueQueue("client-ours-rpc");
    Vertx vertx = io.celerity.support.BlockedThreadGuard.strictVertx();
    try (WorkerHarness worker =
            WorkerHarness.start(
                vertx,
                WorkerHarness.config(Brokers.AMQP_URL, "rpc://", queue)
                    .put("task_default_queue", queue));
        CelerityClient client =
            CelerityClient.connect(
                ClientOptions.of(Brokers.AMQP_URL, "rpc://").withDefaultQueue(queue))) {
      assertEquals(4, client.send("examples.add", 2, 2).get(WAIT));
      assertEquals(
          30,
          client
              .delay(
                  Canvas.chain(
                      Signature.of("examples.add", 1, 2), Signature.of("examples.mul", 10)))
              .get(WAIT));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
      deleteQueue(queue);
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void aJavaTaskFansOutSubtasksThatCelerysWorkerRuns() throws Exception {
    String ourQ = Brokers.uniqueQueue("client-fan");
    String pyQ = Brokers.uniqueQueue("client-fan-py");
    Vertx vertx = io.celerity.support.BlockedThreadGuard.strictVertx();
    try (PythonWorker python =
            PythonWorker.start(
                Brokers.AMQP_URL,
                Brokers.REDIS_URL,
                pyQ,
                Map.of("CELERITY_TEST_DEFAULT_QUEUE", pyQ));
        WorkerHarness worker =
            WorkerHarness.start(
                vertx,
                WorkerHarness.config(Brokers.AMQP_URL, Brokers.REDIS_URL, ourQ)
                    .put(
                        "app",
                        new io.vertx.core.json.JsonArray().add(FanOutTasks.class.getName())));
        CelerityClient client =
            CelerityClient.connect(
                ClientOptions.of(Brokers.AMQP_URL, Brokers.REDIS_URL).withDefaultQueue(ourQ))) {
      AsyncResult fan = client.send("tests.fan_out", pyQ, 3);
      Map<String, Object> started = (Map<String, Object>) fan.get(WAIT);
      List<String> ids = (List<String>) started.get("ids");
      assertEquals(3, ids.size());
      for (int i = 0; i < 3; i++) {
        AsyncResult sub = client.result(ids.get(i));
        assertEquals(2 * i, sub.get(WAIT));
        Map<String, Object> doc =
            sub.document(WAIT).toCompletionStage().toCompletableFuture().get();
        assertEquals(
            fan.id(),
            doc.get("parent_id"),
            "Celery's worker stored the Java task as the parent: " + doc);
      }
      assertEquals(
          6,
          client.result((String) started.get("chord")).get(WAIT),
          "a chord started by a Java task");
      List<Object> children =
          (List<Object>)
              fan.document(WAIT).toCompletionStage().toCompletableFuture().get().get("children");
      assertEquals(4, children.size(), "what the task sent is listed in its children: " + children);
      assertEquals(
          java.util.Arrays.asList(java.util.Arrays.asList(ids.get(0), null), null),
          children.get(0));
      assertTrue(python.log().contains("examples.xsum"), "the Python worker ran the chord body");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
      deleteQueue(ourQ);
      deleteQueue(pyQ);
    }
  }

  /** rpc:// over the Redis broker: the reply queue is a kombu list, popped like a task queue. */
  @Test
  void rpcResultsOverTheRedisBroker() throws Exception {
    String queue = Brokers.uniqueQueue("client-redis-rpc");
    Vertx vertx = io.celerity.support.BlockedThreadGuard.strictVertx();
    try (PythonWorker python =
            PythonWorker.start(
                Brokers.REDIS_BROKER_URL,
                "rpc://",
                queue,
                Map.of("CELERITY_TEST_DEFAULT_QUEUE", queue));
        CelerityClient client =
            CelerityClient.connect(
                ClientOptions.of(Brokers.REDIS_BROKER_URL, "rpc://")
                    .withDefaultQueue(queue)
                    .withVertx(vertx))) {
      assertEquals(4, client.send("examples.add", 2, 2).get(WAIT));
      assertEquals(
          "ValueError: r",
          assertThrows(TaskFailedException.class, () -> client.send("examples.fail", "r").get(WAIT))
              .getMessage());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  /**
   * The pub/sub connection goes while a result is awaited and the result is stored meanwhile (its
   * PUBLISH missed): the client reconnects, subscribes again and reads the stored result.
   */
  @Test
  void aResultPublishedWhileThePubSubConnectionIsDownIsStillDelivered() throws Exception {
    String queue = Brokers.uniqueQueue("client-resub");
    Vertx vertx = io.celerity.support.BlockedThreadGuard.strictVertx();
    java.net.URI redisUri = java.net.URI.create(Brokers.REDIS_URL);
    TcpProxy proxy = new TcpProxy(vertx, redisUri.getHost(), redisUri.getPort());
    String proxied = "redis://127.0.0.1:" + proxy.port() + redisUri.getPath();
    try (WorkerHarness worker =
            WorkerHarness.start(
                vertx, WorkerHarness.config(Brokers.AMQP_URL, Brokers.REDIS_URL, queue));
        CelerityClient client =
            CelerityClient.connect(
                ClientOptions.of(Brokers.AMQP_URL, proxied).withDefaultQueue(queue));
        RedisCli redis = new RedisCli(Brokers.REDIS_URL)) {
      assertEquals(
          2, client.send("examples.add", 1, 1).get(WAIT), "subscribed once through the proxy");
      AsyncResult r = client.send("examples.sleep", 1);
      io.vertx.core.Future<Object> value = r.result(WAIT);
      Polling.until(
          () -> proxy.upstreamPorts().size() >= 2, 30_000); // the command and pub/sub connections
      proxy.cut(true);
      Polling.until(() -> redis.send("GET", "celery-task-meta-" + r.id()) != null, 60_000);
      assertTrue(
          !value.isComplete(), "the result was published while the client could not hear it");
      proxy.accept();
      assertEquals(
          1,
          value
              .toCompletionStage()
              .toCompletableFuture()
              .get(60, java.util.concurrent.TimeUnit.SECONDS));
    } finally {
      proxy.close();
      vertx.close().toCompletionStage().toCompletableFuture().get();
      deleteQueue(queue);
    }
  }

  static void deleteQueue(String queue) throws Exception {
    try (Amqp amqp = new Amqp()) {
      amqp.delete(queue);
    }
  }
}

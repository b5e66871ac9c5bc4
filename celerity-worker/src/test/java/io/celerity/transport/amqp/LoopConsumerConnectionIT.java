package io.celerity.transport.amqp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import io.celerity.it.Amqp;
import io.celerity.it.Brokers;
import io.celerity.transport.Transport;
import io.celerity.transport.TransportOptions;
import io.celerity.transport.Transports;
import io.celerity.types.Delivery;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the event-loop consumer connection adds to the transport contract, on RabbitMQ. */
class LoopConsumerConnectionIT {

  private final Vertx vertx = Vertx.vertx();
  private final Context context = vertx.getOrCreateContext();
  private final String queue = Brokers.uniqueQueue("loop-consumer");
  private final String deadLetters = queue + ".dead";
  private final BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
  private Transport transport;

  @AfterEach
  void tearDown() throws Exception {
    if (transport != null) {
      on(() -> transport.close());
    }
    try (Amqp amqp = new Amqp()) {
      amqp.delete(queue);
      amqp.delete(deadLetters);
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private <T> T on(Supplier<Future<T>> action) throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    context.runOnContext(
        v ->
            action
                .get()
                .onComplete(
                    ar -> {
                      if (ar.succeeded()) {
                        f.complete(ar.result());
                      } else {
                        f.completeExceptionally(ar.cause());
                      }
                    }));
    return f.get(30, TimeUnit.SECONDS);
  }

  /**
   * Headers nested deeper than any Celery message's: RabbitMQ takes them, a recursive reader on the
   * event loop would overflow its stack.
   */
  private static AMQP.BasicProperties nestedTooDeep() {
    Map<String, Object> h = new java.util.HashMap<>();
    Map<String, Object> inner = h;
    for (int i = 0; i <= AmqpCodec.Reader.MAX_DEPTH; i++) {
      Map<String, Object> next = new java.util.HashMap<>();
      inner.put("n", next);
      inner = next;
    }
    return new AMQP.BasicProperties.Builder().contentType("application/json").headers(h).build();
  }

  @Test
  void aMessageWhoseHeadersCannotBeReadIsRejectedAndConsumingGoesOn() throws Exception {
    try (Amqp amqp = new Amqp()) {
      amqp.declare(deadLetters, Map.of());
      amqp.declare(
          queue, Map.of("x-dead-letter-exchange", "", "x-dead-letter-routing-key", deadLetters));
      amqp.publish(queue, nestedTooDeep(), "bad".getBytes(StandardCharsets.UTF_8));
      amqp.publish(
          queue,
          "application/json",
          Amqp.taskHeaders("examples.add", "good-1"),
          "good".getBytes(StandardCharsets.UTF_8));
    }
    transport =
        Transports.create(
            vertx,
            new TransportOptions(Brokers.AMQP_URL, List.of(queue), 10, null, 500, "loop-it"));
    on(() -> transport.start(deliveries::add));

    Delivery good = deliveries.poll(30, TimeUnit.SECONDS);
    assertNotNull(good, Amqp.describe(queue));
    assertEquals("good", new String(good.body(), StandardCharsets.UTF_8));
    assertEquals("good-1", good.headers().get("id"));
    context.runOnContext(v -> transport.ack(good));

    GetResponse dead = null;
    try (Amqp amqp = new Amqp()) {
      for (int i = 0; i < 300 && dead == null; i++) {
        dead = amqp.get(deadLetters);
        if (dead == null) {
          Thread.sleep(100); // polling the broker: nothing to wait on from here
        }
      }
    }
    assertNotNull(dead, "the unreadable message was not dead-lettered");
    assertEquals("bad", new String(dead.getBody(), StandardCharsets.UTF_8));
    assertTrue(deliveries.isEmpty(), "only the readable message reaches the consumer");
    assertTrue(transport.isConnected());
    assertEquals(0, transport.reconnects(), "the connection was not reset over one message");
  }

  @Test
  void wrongCredentialsFailTheOpenWithTheBrokersReason() {
    AmqpUrl real = AmqpUrl.parse(Brokers.AMQP_URL);
    AmqpUrl wrong =
        AmqpUrl.parse("amqp://guest:wrong@" + real.host() + ":" + real.port() + "/" + real.vhost());
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () ->
                on(
                    () ->
                        LoopConsumerConnection.open(vertx, context, wrong, "wrong", 1, why -> {})));
    assertTrue(e.getCause().getMessage().contains("ACCESS_REFUSED"), e.getCause().toString());
  }

  @Test
  void aConsumerTheBrokerCancelsIsNoticedAndConsumingStartsAgain() throws Exception {
    transport =
        Transports.create(
            vertx,
            new TransportOptions(Brokers.AMQP_URL, List.of(queue), 10, null, 500, "loop-it"));
    on(() -> transport.start(deliveries::add));
    try (Amqp amqp = new Amqp()) {
      amqp.delete(queue); // RabbitMQ sends basic.cancel to its consumers (consumer_cancel_notify)
      for (int i = 0; i < 300 && transport.reconnects() == 0; i++) {
        Thread.sleep(100); // polling the transport's counter: there is no event to wait on
      }
      assertEquals(1, transport.reconnects(), "the cancel was not noticed");
      for (int i = 0; i < 300 && !transport.isConnected(); i++) {
        Thread.sleep(100);
      }
      amqp.publish(
          queue,
          "application/json",
          Amqp.taskHeaders("examples.add", "after-cancel"),
          "again".getBytes(StandardCharsets.UTF_8));
    }
    Delivery d = deliveries.poll(30, TimeUnit.SECONDS);
    assertNotNull(d, Amqp.describe(queue));
    assertEquals("after-cancel", d.headers().get("id"));
  }

  @Test
  void anIdleConnectionKeepsItselfAliveWithHeartbeats() throws Exception {
    List<String> lost = new java.util.concurrent.CopyOnWriteArrayList<>();
    String name = "heartbeat-" + queue;
    ConsumerConnection c =
        on(
            () ->
                LoopConsumerConnection.open(
                    vertx, context, AmqpUrl.parse(Brokers.AMQP_URL), name, 1, lost::add, 1));
    try {
      // 1 s negotiated: RabbitMQ closes a connection it heard nothing from for two intervals, and
      // we would give up on a silent broker after two; five seconds of idling cover both sides
      Thread.sleep(5_000); // the passage of time is what is under test
      assertTrue(c.isOpen(), "closed: " + lost);
      assertTrue(lost.isEmpty(), lost.toString());
      assertTrue(
          c.declare(List.of(new AmqpQueues.QueueDeclare(queue, Map.of())))
                  .toCompletionStage()
                  .toCompletableFuture()
                  .get(10, TimeUnit.SECONDS)
              == null,
          "the connection still answers");
    } finally {
      on(c::close);
    }
  }
}

package io.celerity.transport.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.it.TcpProxy;
import io.celerity.support.BlockedThreadGuard;
import io.celerity.support.Polling;
import io.celerity.transport.Transport;
import io.celerity.transport.TransportOptions;
import io.celerity.transport.Transports;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every transport promises the consumer, run against memory, RabbitMQ and Redis: publish
 * (complete only once the message is in the queue) and consume, an ack settles for good, reject
 * with and without requeue, pull-mode credit, and (for real brokers) that consuming resumes after a
 * lost connection and nothing is lost. That each delivery is settled at most once is the consumer's
 * promise ({@code Settler}), not the transport's.
 */
abstract class TransportContract {

  protected final Vertx vertx = BlockedThreadGuard.strictVertx();
  protected final String queue =
      io.celerity.it.Brokers.uniqueQueue("contract-" + getClass().getSimpleName());
  private final Context context = vertx.getOrCreateContext();
  private final BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
  private Transport transport;
  protected TcpProxy proxy;

  /** The broker URL; {@code proxyPort} > 0: through a proxy on that port. */
  protected abstract String url(int proxyPort);

  /** Messages ready in the queue (not held by a consumer). */
  protected abstract long waiting() throws Exception;

  /** Host and port of the real broker, or null for the in-JVM one (no reconnect test). */
  protected abstract int[] brokerPort();

  protected abstract void deleteQueue() throws Exception;

  @AfterEach
  void tearDown() throws Exception {
    if (transport != null) {
      on(() -> transport.close());
    }
    if (proxy != null) {
      proxy.close();
    }
    deleteQueue();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  protected Transport transport() {
    return transport;
  }

  /** Runs on the transport's event loop and waits for the future. */
  protected <T> T on(Supplier<Future<T>> action) throws Exception {
    CompletableFuture<T> done = new CompletableFuture<>();
    context.runOnContext(
        v ->
            action
                .get()
                .onComplete(
                    ar -> {
                      if (ar.succeeded()) {
                        done.complete(ar.result());
                      } else {
                        done.completeExceptionally(ar.cause());
                      }
                    }));
    return done.get(30, TimeUnit.SECONDS);
  }

  protected void run(Runnable r) throws Exception {
    on(
        () -> {
          r.run();
          return Future.succeededFuture();
        });
  }

  /** The transport's {@code broker_transport_options}. */
  protected java.util.Map<String, Object> transportOptions() {
    return java.util.Map.of();
  }

  protected void start(String url, boolean pull) throws Exception {
    transport =
        Transports.create(
            vertx,
            new TransportOptions(
                url, List.of(queue), 10, null, 500, "contract", transportOptions()));
    if (pull) {
      transport.pullOnly();
    }
    on(() -> transport.start(deliveries::add));
  }

  private void publish(String body) throws Exception {
    publish(body, body);
  }

  private void publish(String id, String body) throws Exception {
    on(
        () ->
            transport.publish(
                OutgoingMessage.json(
                    "", queue, body.getBytes(StandardCharsets.UTF_8), Map.of("id", id), Map.of())));
  }

  protected Delivery next() throws InterruptedException {
    Delivery d = deliveries.poll(15, TimeUnit.SECONDS);
    assertNotNull(d, "a delivery within 15 s");
    return d;
  }

  protected static String body(Delivery d) {
    return new String(d.body(), StandardCharsets.UTF_8);
  }

  protected void closeAndCheckNothingLeft() throws Exception {
    on(() -> transport.flush().compose(v -> transport.close()));
    transport = null;
    Polling.until(() -> waiting() == 0, 10_000);
  }

  @Test
  void aPublishedMessageIsConsumedAndAnAckSettlesItForGood() throws Exception {
    start(url(0), false);
    publish("one");
    Delivery d = next();
    assertEquals("one", body(d));
    assertEquals(queue, d.queue());
    run(() -> transport.ack(d));
    closeAndCheckNothingLeft(); // an unacked message would be back in the queue after close
  }

  @Test
  void rejectWithRequeueDeliversAgainWithoutRequeueDrops() throws Exception {
    start(url(0), false);
    publish("again");
    Delivery first = next();
    run(() -> transport.reject(first, true));
    Delivery second = next();
    assertEquals("again", body(second));
    run(() -> transport.reject(second, false));
    closeAndCheckNothingLeft();
  }

  @Test
  void pullModeTakesNoMoreThanTheCreditGiven() throws Exception {
    start(url(0), true);
    publish("p1");
    publish("p2");
    publish("p3");
    run(() -> transport.grant(1));
    Delivery d1 = next();
    Polling.until(() -> waiting() == 2, 10_000);
    assertEquals(0, deliveries.size(), "one credit, one message");
    run(() -> transport.grant(2));
    Delivery d2 = next();
    Delivery d3 = next();
    assertEquals(List.of("p1", "p2", "p3"), List.of(body(d1), body(d2), body(d3)));
    run(() -> List.of(d1, d2, d3).forEach(transport::ack));
    closeAndCheckNothingLeft();
  }

  @Test
  void aPublishCompletesOnlyOnceTheMessageIsInTheQueue() throws Exception {
    start(url(0), true); // pull mode without credit: nothing is taken off the queue meanwhile
    for (int i = 0; i < 5; i++) {
      publish("c" + i);
    }
    assertEquals(
        5,
        waiting(),
        "every completed publish is in the queue (confirmed, where the broker confirms)");
    run(() -> transport.grant(5));
    for (int i = 0; i < 5; i++) {
      Delivery d = next();
      assertEquals("c" + i, body(d));
      run(() -> transport.ack(d));
    }
    closeAndCheckNothingLeft();
  }

  @Test
  void largeMessagesKeepTheirPlaceInTheQueueAndTheirBytes() throws Exception {
    start(url(0), false);
    String large = "x".repeat(2 * 1024 * 1024);
    // one to a consumer waiting on an empty queue (Redis: BRPOP), then several queued (batch pops)
    publish("L0", "L0" + large);
    Delivery first = next();
    assertTrue(("L0" + large).equals(body(first)), "the body as it was published");
    run(() -> transport.ack(first));
    List<String> bodies = List.of("s1", "L1" + large, "s2", "L2" + large, "s3");
    for (String b : bodies) {
      publish(b.substring(0, 2), b);
    }
    for (String b : bodies) {
      Delivery d = next();
      assertEquals(b.substring(0, 2), d.headers().get("id"), "delivered in the order published");
      assertTrue(b.equals(body(d)), "the body as it was published");
      run(() -> transport.ack(d));
    }
    closeAndCheckNothingLeft();
  }

  @Test
  void aLostConnectionLosesNothing() throws Exception {
    int[] broker = brokerPort();
    if (broker == null) {
      return; // the in-JVM broker has no connection to lose
    }
    proxy = new TcpProxy(vertx, "127.0.0.1", broker[0]);
    start(url(proxy.port()), false);
    publish("before");
    Delivery held = next();
    proxy.cut(true);
    Polling.until(() -> !on(() -> Future.succeededFuture(transport.isConnected())), 10_000);
    proxy.accept();
    Polling.until(() -> on(() -> Future.succeededFuture(transport.isConnected())), 30_000);
    assertTrue(on(() -> Future.succeededFuture(transport.reconnects())) >= 1);
    // The held message is either still ours (Redis: the ack applies) or delivered again (AMQP).
    run(() -> transport.ack(held));
    publish("after");
    Delivery d = next();
    if (body(d).equals("before")) {
      Delivery again = d;
      run(() -> transport.ack(again));
      d = next();
    }
    assertEquals("after", body(d));
    Delivery last = d;
    run(() -> transport.ack(last));
    closeAndCheckNothingLeft();
  }
}

package io.celerity.consumer;

import static io.celerity.support.OnLoop.await;
import static io.celerity.support.OnLoop.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.WorkerServices;
import io.celerity.config.WorkerOptions;
import io.celerity.events.TaskEvents;
import io.celerity.examples.ExampleTasks;
import io.celerity.metrics.WorkerMetrics;
import io.celerity.protocol.DeliveryFixtures;
import io.celerity.protocol.IsoTime;
import io.celerity.protocol.MessageDecoder;
import io.celerity.protocol.States;
import io.celerity.task.TaskDefinition;
import io.celerity.task.TaskRegistry;
import io.celerity.types.Delivery;
import io.celerity.types.Request;
import io.celerity.types.Settle;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consumer without a broker: what reaches the pool, what is stored, what is acked or rejected,
 * and the prefetch count told to the broker, for deliveries that run, wait for their ETA or rate
 * limit, are revoked, expired, unknown or undecodable, or belong to a lost connection.
 */
class TaskConsumerTest {

  private static final Instant LATER = Instant.now().plus(Duration.ofHours(1));

  private Vertx vertx;
  private Context ctx;
  private RecordingTransport transport;
  private final List<Request> pool = Collections.synchronizedList(new ArrayList<>());
  private final List<TaskOutcome> results = Collections.synchronizedList(new ArrayList<>());
  private WorkerServices services;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    ctx = vertx.getOrCreateContext();
    transport = new RecordingTransport();
    TaskRegistry registry = new TaskRegistry();
    new ExampleTasks().register(registry);
    services = new WorkerServices(registry, TaskEvents.of(vertx), WorkerMetrics.of(vertx));
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** A consumer with concurrency 1 and prefetch multiplier 4 (prefetch count 4), loaded. */
  private TaskConsumer consumer(JsonObject options) throws Exception {
    WorkerOptions o =
        new WorkerOptions(
            new JsonObject()
                .put("concurrency", 1)
                .put("prefetch_multiplier", 4)
                .put("hostname", "w1@test")
                .mergeIn(options));
    TaskConsumer c =
        onLoop(
            ctx,
            () ->
                new TaskConsumer(
                    vertx,
                    o,
                    services,
                    transport,
                    new TaskConsumer.Ports(
                        pool::add, results::add, () -> Future.succeededFuture(Set.of()))));
    onLoop(ctx, c::load).await(10, TimeUnit.SECONDS);
    return c;
  }

  /**
   * The captured {@code examples.add} message with this id, task, ETA and expiry, under delivery
   * tag {@code tag}.
   */
  private static Delivery delivery(
      String id, long tag, long generation, String task, Instant eta, Instant expires) {
    Delivery f = DeliveryFixtures.amqp("add");
    Map<String, Object> headers = new HashMap<>(f.headers());
    headers.put("id", id);
    headers.put("task", task);
    headers.put("eta", eta == null ? null : IsoTime.utc(eta));
    headers.put("expires", expires == null ? null : IsoTime.utc(expires));
    return f.withHeaders(headers).withTag(tag, generation);
  }

  private static Delivery delivery(String id, long tag, Instant eta) {
    return delivery(id, tag, 1, "examples.add", eta, null);
  }

  private void deliver(TaskConsumer c, Delivery d) throws Exception {
    onLoop(
        ctx,
        () -> {
          c.onDelivery(d);
          return null;
        });
  }

  private List<String> ids(List<?> requestsOrOutcomes) {
    synchronized (requestsOrOutcomes) {
      return requestsOrOutcomes.stream()
          .map(o -> o instanceof Request r ? r.id() : ((TaskOutcome) o).message().id())
          .toList();
    }
  }

  @Test
  void aRequestWithoutEtaGoesStraightToThePool() throws Exception {
    TaskConsumer c = consumer(new JsonObject());
    deliver(c, delivery("a", 1, null));
    assertEquals(List.of("a"), ids(pool));
    assertEquals(
        List.of(), transport.settled, "the pool or the result writer settles it, not the consumer");
    assertEquals(List.of(), transport.prefetches);
    assertEquals(1, onLoop(ctx, c::received));
  }

  @Test
  void anEtaRequestIsHeldUnackedRaisingThePrefetchCountUntilItRuns() throws Exception {
    TaskConsumer c = consumer(new JsonObject());
    deliver(c, delivery("eta", 1, Instant.now().plusMillis(300)));
    assertEquals(List.of(), ids(pool));
    assertEquals(1, onLoop(ctx, c::etaHeld));
    assertEquals(List.of(5), onLoop(ctx, () -> List.copyOf(transport.prefetches)));
    await(ctx, () -> pool.size() == 1);
    assertEquals(List.of("eta"), ids(pool));
    assertEquals(List.of(5, 4), onLoop(ctx, () -> List.copyOf(transport.prefetches)));
    assertEquals(List.of(), transport.settled);
  }

  @Test
  void etaTaskLimitCapsHowFarThePrefetchCountIsRaised() throws Exception {
    TaskConsumer c = consumer(new JsonObject().put("eta_task_limit", 1));
    for (int i = 1; i <= 3; i++) {
      deliver(c, delivery("eta" + i, i, LATER));
    }
    assertEquals(3, onLoop(ctx, c::etaHeld));
    assertEquals(List.of(5), transport.prefetches);
    assertEquals(5, onLoop(ctx, c::appliedPrefetch));
  }

  @Test
  void aRevokedRequestIsStoredRevokedAndNeverRuns() throws Exception {
    TaskConsumer c = consumer(new JsonObject());
    onLoop(
        ctx,
        () -> {
          c.revoke(List.of("r1"));
          return null;
        });
    deliver(c, delivery("r1", 1, null));
    deliver(c, delivery("ok", 2, null));
    assertEquals(List.of("ok"), ids(pool));
    assertEquals(List.of("r1"), ids(results));
    assertEquals(States.REVOKED, results.get(0).state());
    assertEquals(List.of("revoked"), results.get(0).error().args());
  }

  @Test
  void revokeDropsHeldRequestsAndLowersThePrefetchCountAgain() throws Exception {
    TaskConsumer c = consumer(new JsonObject());
    deliver(c, delivery("held", 1, LATER));
    deliver(c, delivery("kept", 2, LATER));
    onLoop(
        ctx,
        () -> {
          c.revoke(List.of("held"));
          return null;
        });
    assertEquals(List.of("held"), ids(results));
    assertEquals(States.REVOKED, results.get(0).state());
    assertEquals(1, onLoop(ctx, c::etaHeld));
    assertEquals(List.of(5, 6, 5), transport.prefetches);
    assertTrue(onLoop(ctx, c::revoked).containsKey("held"));
  }

  @Test
  void anExpiredRequestIsStoredRevokedAsExpiredAndItsIdRevoked() throws Exception {
    TaskConsumer c = consumer(new JsonObject());
    deliver(c, delivery("old", 1, 1, "examples.add", null, Instant.now().minusSeconds(5)));
    assertEquals(List.of(), ids(pool));
    assertEquals(List.of("old"), ids(results));
    assertEquals(List.of("expired"), results.get(0).error().args());
    assertEquals(Set.of("old"), onLoop(ctx, c::revoked).keySet());
  }

  @Test
  void anUnregisteredTaskIsRejectedAndStoredAsFailure() throws Exception {
    TaskConsumer c = consumer(new JsonObject());
    deliver(c, delivery("u", 1, 1, "no.such.task", null, null));
    assertEquals(List.of("reject 1"), transport.settled);
    assertEquals(List.of(), ids(pool));
    assertEquals(States.FAILURE, results.get(0).state());
    assertEquals("NotRegistered", results.get(0).error().type());
  }

  @Test
  void anUndecodableBodyIsAckedAndDropped() throws Exception {
    TaskConsumer c = consumer(new JsonObject());
    deliver(c, delivery("bad", 1, null).withBody("[[1, 2".getBytes(StandardCharsets.UTF_8)));
    assertEquals(List.of("ack 1"), transport.settled);
    assertEquals(List.of(), ids(pool));
    assertEquals(List.of(), ids(results));
  }

  /**
   * A consumer whose task lookups (each decode looks the task up) record whether they ran on an
   * event loop, from now on.
   */
  private TaskConsumer consumerRecordingLookups(List<Boolean> lookedUpOnLoop) throws Exception {
    TaskRegistry registry =
        new TaskRegistry() {
          @Override
          public TaskDefinition get(String name) {
            lookedUpOnLoop.add(Context.isOnEventLoopThread());
            return super.get(name);
          }
        };
    new ExampleTasks().register(registry);
    services = new WorkerServices(registry, TaskEvents.of(vertx), WorkerMetrics.of(vertx));
    TaskConsumer c = consumer(new JsonObject());
    lookedUpOnLoop.clear(); // the consumer's own start-up looks tasks up too
    return c;
  }

  @Test
  void aLargeBodyIsDecodedOffTheEventLoopAndStillRuns() throws Exception {
    List<Boolean> lookedUpOnLoop = Collections.synchronizedList(new ArrayList<>());
    TaskConsumer c = consumerRecordingLookups(lookedUpOnLoop);
    String big = "x".repeat(MessageDecoder.HEAVY_BODY_BYTES);
    deliver(c, delivery("small", 1, null));
    deliver(
        c,
        delivery("big", 2, null)
            .withBody(("[[\"" + big + "\"], {}, {}]").getBytes(StandardCharsets.UTF_8)));
    deliver(c, delivery("bad", 3, null).withBody(("[[\"" + big).getBytes(StandardCharsets.UTF_8)));
    await(ctx, () -> pool.size() == 2 && transport.settled.size() == 1);
    assertEquals(List.of("small", "big"), ids(pool));
    assertEquals(big, pool.get(1).message().args().get(0));
    assertEquals(List.of("ack 3"), transport.settled, "an undecodable large body is dropped");
    assertEquals(
        List.of(true, false),
        lookedUpOnLoop,
        "the small body is decoded on the event loop, the large one on a worker thread");
  }

  @Test
  void aLargeBodyHeldForItsEtaIsNotDecodedAgainOnTheEventLoop() throws Exception {
    List<Boolean> lookedUpOnLoop = Collections.synchronizedList(new ArrayList<>());
    TaskConsumer c = consumerRecordingLookups(lookedUpOnLoop);
    String big = "x".repeat(MessageDecoder.HEAVY_BODY_BYTES);
    deliver(
        c,
        delivery("later", 1, Instant.now().plusMillis(300))
            .withBody(("[[\"" + big + "\"], {}, {}]").getBytes(StandardCharsets.UTF_8)));
    await(ctx, () -> pool.size() == 1);
    assertEquals(big, pool.get(0).message().args().get(0));
    assertEquals(
        List.of(false),
        lookedUpOnLoop,
        "decoded once, on a worker thread; held and run as decoded");
  }

  @Test
  void aDeliveryIsSettledOnceWhateverAsksAgain() throws Exception {
    TaskConsumer c = consumer(new JsonObject());
    Delivery d = delivery("a", 1, null);
    deliver(c, d);
    onLoop(
        ctx,
        () -> {
          c.settle(new Settle(d, Settle.Action.ACK));
          c.settle(new Settle(d, Settle.Action.REJECT));
          c.settle(new Settle(d, Settle.Action.ACK));
          return null;
        });
    assertEquals(List.of("ack 1"), transport.settled);
    assertEquals(0, onLoop(ctx, c::unsettledCount));
  }

  @Test
  void whatIsHeldOfALostConnectionIsForgottenAndNeverSettled() throws Exception {
    TaskConsumer c = consumer(new JsonObject());
    Delivery lost = delivery("lost", 1, 1, "examples.add", LATER, null);
    Delivery now = delivery("new", 1, 2, "examples.add", LATER, null);
    deliver(c, lost);
    deliver(c, now);
    onLoop(
        ctx,
        () -> {
          c.connectionLost(1);
          c.settle(new Settle(lost, Settle.Action.ACK));
          return null;
        });
    assertEquals(1, onLoop(ctx, c::etaHeld));
    assertEquals(1, onLoop(ctx, c::unsettledCount));
    assertEquals(List.of(5, 6, 5), transport.prefetches);
    assertEquals(
        List.of(), transport.settled, "the broker redelivers it; its old tag must not be acked");
  }

  @Test
  void rateLimitedRequestsWaitUnackedRaisingThePrefetchCount() throws Exception {
    TaskConsumer c = consumer(new JsonObject());
    JsonObject reply = onLoop(ctx, () -> c.rateLimit("examples.add", "1/h"));
    assertEquals("new rate limit set successfully", reply.getString("ok"));
    for (int i = 1; i <= 3; i++) {
      deliver(c, delivery("r" + i, i, null));
    }
    assertEquals(List.of("r1"), ids(pool), "one token, then the others wait");
    assertEquals(2, onLoop(ctx, c::rateLimited));
    assertEquals(6, onLoop(ctx, c::appliedPrefetch));
    assertEquals(
        "unknown task", onLoop(ctx, () -> c.rateLimit("no.such.task", "1/s")).getString("error"));
    assertEquals(
        "rate limit disabled successfully",
        onLoop(ctx, () -> c.rateLimit("examples.add", 0)).getString("ok"));
    assertEquals(List.of("r1", "r2", "r3"), ids(pool), "without a limit the waiting requests run");
    assertEquals(4, onLoop(ctx, c::appliedPrefetch));
  }

  @Test
  void shutdownRequeuesHeldRequestsAndTheStateFileKeepsRevokedIds(@TempDir Path dir)
      throws Exception {
    JsonObject options = new JsonObject().put("statedb", dir.resolve("worker.state").toString());
    TaskConsumer c = consumer(options);
    deliver(c, delivery("held", 7, LATER));
    onLoop(
        ctx,
        () -> {
          c.revoke(List.of("gone"));
          return null;
        });
    onLoop(ctx, c::stop).await(10, TimeUnit.SECONDS);
    assertEquals(List.of("requeue 7"), transport.settled);

    TaskConsumer restarted = consumer(options);
    assertEquals(Set.of("gone"), onLoop(ctx, restarted::revoked).keySet());
    deliver(restarted, delivery("gone", 8, null));
    assertEquals(List.of(), ids(pool));
    assertEquals(List.of("gone"), ids(results));
  }

  @Test
  void withDisablePrefetchAHeldRequestGivesItsCreditBack() throws Exception {
    TaskConsumer c = consumer(new JsonObject().put("disable_prefetch", true).put("concurrency", 2));
    onLoop(
        ctx,
        () -> {
          c.slotsFreed(2);
          return null;
        });
    assertEquals(2, transport.credit);
    deliver(c, delivery("eta", 1, LATER));
    deliver(c, delivery("bad", 2, 1, "no.such.task", null, null));
    assertEquals(4, transport.credit, "neither occupies a pool slot");
    deliver(c, delivery("run", 3, null));
    assertEquals(4, transport.credit);
  }
}

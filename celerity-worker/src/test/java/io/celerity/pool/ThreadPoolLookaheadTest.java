package io.celerity.pool;

import static io.celerity.support.OnLoop.await;
import static io.celerity.support.OnLoop.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.pool.PoolTesting.Recorder;
import io.celerity.protocol.DeliveryFixtures;
import io.celerity.protocol.MessageDecoder;
import io.celerity.protocol.States;
import io.celerity.protocol.TaskMessages;
import io.celerity.task.TaskRegistry;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.Request;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The thread pool keeps a few requests queued on its threads so a finished thread starts the next
 * one by itself. Those requests are still reserved, not active: they must never run beyond the
 * concurrency, and revoke, warm shutdown and a lost connection must still take them back.
 */
@ExtendWith(VertxExtension.class)
class ThreadPoolLookaheadTest {

  private final AtomicInteger runningNow = new AtomicInteger();
  private final AtomicInteger mostAtOnce = new AtomicInteger();
  private final AtomicInteger ran = new AtomicInteger();
  private final CountDownLatch gate = new CountDownLatch(1);

  private final TaskRegistry registry =
      new TaskRegistry()
          .register(
              "t.count",
              ctx -> {
                int now = runningNow.incrementAndGet();
                mostAtOnce.accumulateAndGet(now, Math::max);
                ran.incrementAndGet();
                runningNow.decrementAndGet();
                return null;
              })
          .register(
              "t.gated",
              ctx -> {
                gate.await();
                ran.incrementAndGet();
                return null;
              });

  private Request request(String task, long generation) {
    OutgoingMessage m =
        TaskMessages.create(task, List.of(), Map.of(), "celery", "test", null, null, null);
    Delivery d = DeliveryFixtures.delivered(m, 1L, generation);
    try {
      return Request.builder(new MessageDecoder().decode(d), d, registry.get(task), "w@test")
          .build();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private final ThreadRunner runner = new ThreadRunner("threads");

  private TaskPool startPool(Vertx vertx, Context ctx, int concurrency, Recorder rec)
      throws Exception {
    return PoolTesting.startPool(vertx, ctx, runner, concurrency, rec);
  }

  @Test
  void neverRunsMoreThanTheConcurrency(Vertx vertx, VertxTestContext test) throws Exception {
    Context ctx = vertx.getOrCreateContext();
    Recorder rec = new Recorder();
    TaskPool pool = startPool(vertx, ctx, 3, rec);
    // decoded here, not on the loop: 2,000 cold decodes on a loaded machine tripped the
    // blocked-loop guard
    List<Request> requests = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      requests.add(request("t.count", 1));
    }
    onLoop(
        ctx,
        () -> {
          requests.forEach(pool::submit);
          return null;
        });
    await(ctx, () -> rec.finished.size() == 2_000);
    assertEquals(2_000, ran.get());
    assertEquals(2_000, onLoop(ctx, () -> rec.started.size()));
    assertTrue(mostAtOnce.get() <= 3, "ran " + mostAtOnce.get() + " bodies at once with -c 3");
    runner.close();
    test.completeNow();
  }

  @Test
  void requestsWaitingOnThePoolThreadsCanStillBeRevokedAndTakenBack(
      Vertx vertx, VertxTestContext test) throws Exception {
    Context ctx = vertx.getOrCreateContext();
    Recorder rec = new Recorder();
    TaskPool pool = startPool(vertx, ctx, 2, rec);
    List<Request> waiting = new ArrayList<>();
    onLoop(
        ctx,
        () -> {
          pool.submit(request("t.gated", 1));
          pool.submit(request("t.gated", 1));
          for (int i = 0; i < 6; i++) {
            Request r = request("t.gated", i < 3 ? 1 : 2);
            waiting.add(r);
            pool.submit(r);
          }
          return null;
        });
    await(ctx, () -> pool.activeCount() == 2);
    assertEquals(6, onLoop(ctx, pool::queuedCount), "the other six are reserved, not active");

    onLoop(ctx, () -> pool.revoke(List.of(waiting.get(0).id()), false, "SIGTERM"));
    TaskOutcome revoked = onLoop(ctx, () -> rec.finished.get(0));
    assertEquals(States.REVOKED, revoked.state());
    assertEquals(waiting.get(0).id(), revoked.request().id());

    assertEquals(
        2,
        onLoop(ctx, () -> pool.forgetGeneration(1)),
        "requests of the lost connection are dropped");
    List<Request> back = onLoop(ctx, pool::takeQueued);
    assertEquals(
        List.of(waiting.get(3).id(), waiting.get(4).id(), waiting.get(5).id()),
        back.stream().map(Request::id).toList(),
        "warm shutdown takes back what has not started, in order");

    gate.countDown();
    await(ctx, () -> pool.activeCount() == 0 && rec.finished.size() == 3);
    assertEquals(2, ran.get(), "only the two that had started ran");
    assertEquals(2, rec.started.size());
    runner.close();
    test.completeNow();
  }
}

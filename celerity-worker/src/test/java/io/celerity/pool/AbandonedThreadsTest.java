package io.celerity.pool;

import static io.celerity.support.OnLoop.await;
import static io.celerity.support.OnLoop.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A hard time limit abandons a body that ignores interrupts; the thread pool adds a thread in its
 * place only up to {@code max_abandoned_threads}. Beyond the cap the abandoned body keeps its slot
 * until it returns, so {@code timelimit} headers cannot make the pool grow without bound.
 */
@ExtendWith(VertxExtension.class)
class AbandonedThreadsTest {

  private final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();
  private final AtomicInteger quickRuns = new AtomicInteger();
  private final AtomicLong tags = new AtomicLong();
  private final TaskRegistry registry =
      new TaskRegistry()
          .register(
              "t.stubborn",
              ctx -> {
                CountDownLatch gate =
                    gates.computeIfAbsent(ctx.arg(0, String.class), k -> new CountDownLatch(1));
                while (true) {
                  try {
                    gate.await();
                    return "returned";
                  } catch (InterruptedException ignored) {
                    // ignores interrupts, like code that swallows them
                  }
                }
              })
          .register("t.quick", ctx -> quickRuns.incrementAndGet());
  private final ThreadRunner runner = new ThreadRunner("threads", 1);

  @AfterEach
  void close() {
    gates.values().forEach(CountDownLatch::countDown);
    runner.close();
  }

  private void open(String gate) {
    gates.computeIfAbsent(gate, k -> new CountDownLatch(1)).countDown();
  }

  private Request request(String task, List<Object> args, Double hardLimit) throws Exception {
    OutgoingMessage m =
        TaskMessages.create(task, args, Map.of(), "celery", "test", null, null, null);
    if (hardLimit != null) {
      m.headers().put("timelimit", Arrays.asList(hardLimit, null));
    }
    Delivery d = DeliveryFixtures.delivered(m, tags.incrementAndGet(), 1L);
    return Request.builder(new MessageDecoder().decode(d), d, registry.get(task), "w@test")
        .timeLimits(hardLimit, null)
        .build();
  }

  @Test
  void overTheCapAnAbandonedBodyKeepsItsSlotUntilItReturns(Vertx vertx, VertxTestContext test)
      throws Exception {
    Context ctx = vertx.getOrCreateContext();
    List<TaskOutcome> finished = Collections.synchronizedList(new ArrayList<>());
    TaskPool pool =
        onLoop(
            ctx,
            () ->
                new TaskPool(
                    vertx,
                    ctx,
                    runner,
                    1,
                    new TaskPool.Listener() {
                      @Override
                      public void started(Request request) {}

                      @Override
                      public void finished(TaskOutcome outcome) {
                        finished.add(outcome);
                      }
                    }));
    onLoop(ctx, pool::warmUp);
    Request first = request("t.stubborn", List.of("a"), 0.1);
    Request second = request("t.stubborn", List.of("b"), 0.1);
    Request quick = request("t.quick", List.of(), null);
    onLoop(
        ctx,
        () -> {
          pool.submit(first);
          pool.submit(second);
          pool.submit(quick);
          return null;
        });
    // first: abandoned at its limit, a thread is added in its place (cap 1); second runs on it and
    // is abandoned too, over the cap: no thread more, its slot stays taken
    await(ctx, () -> finished.size() == 2 && pool.heldSlots() == 1);
    assertEquals(
        List.of(States.FAILURE, States.FAILURE),
        finished.stream().map(TaskOutcome::state).toList());
    assertEquals(2, onLoop(ctx, pool::abandoned));
    assertEquals(0, onLoop(ctx, pool::activeCount));
    assertEquals(1, onLoop(ctx, pool::queuedCount), "the quick task waits for the held slot");
    assertEquals(0, quickRuns.get());

    open("a"); // the first body returns: its extra thread goes, the slot is still the second's
    await(ctx, () -> pool.abandoned() == 1);
    assertEquals(1, onLoop(ctx, pool::heldSlots));
    assertEquals(0, quickRuns.get());

    open("b"); // the second returns: its slot is free, the quick task runs
    await(ctx, () -> finished.size() == 3);
    assertEquals(States.SUCCESS, finished.get(2).state());
    assertEquals(1, quickRuns.get());
    assertEquals(0, onLoop(ctx, pool::heldSlots));
    assertEquals(0, onLoop(ctx, pool::abandoned));
    test.completeNow();
  }
}

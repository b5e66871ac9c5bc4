package io.celerity.pool;

import static io.celerity.support.OnLoop.await;
import static io.celerity.support.OnLoop.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.celerity.pool.PoolTesting.Recorder;
import io.celerity.protocol.DeliveryFixtures;
import io.celerity.protocol.MessageDecoder;
import io.celerity.protocol.States;
import io.celerity.protocol.TaskMessages;
import io.celerity.task.TaskRegistry;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.Request;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two deliveries of the same task id (a publisher reusing an id, a redelivery after a reconnect
 * while the first copy still runs) are two jobs: each is active until it ends, and a revoke by id
 * reaches every one of them.
 */
@ExtendWith(VertxExtension.class)
class TaskPoolDeliveriesTest {

  /** Latches the test opens, by name (the task's first argument). */
  private final Map<String, CountDownLatch> gates = new ConcurrentHashMap<>();

  private final AtomicLong tags = new AtomicLong();
  private final TaskRegistry registry =
      new TaskRegistry()
          .register(
              "t.gated",
              ctx -> {
                gates.computeIfAbsent(ctx.arg(0, String.class), k -> new CountDownLatch(1)).await();
                return ctx.arg(0, String.class);
              });
  private final ThreadRunner runner = new ThreadRunner("threads");

  @AfterEach
  void close() {
    gates.values().forEach(CountDownLatch::countDown);
    runner.close();
  }

  private void open(String gate) {
    gates.computeIfAbsent(gate, k -> new CountDownLatch(1)).countDown();
  }

  private Request request(String id, String gate) {
    OutgoingMessage m =
        TaskMessages.create("t.gated", List.of(gate), Map.of(), "celery", "test", null, null, null);
    m.headers().put("id", id);
    Delivery d = DeliveryFixtures.delivered(m, tags.incrementAndGet(), 1L);
    try {
      return Request.builder(new MessageDecoder().decode(d), d, registry.get("t.gated"), "w@test")
          .build();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private TaskPool startPool(Vertx vertx, Context ctx, int concurrency, Recorder rec)
      throws Exception {
    return PoolTesting.startPool(vertx, ctx, runner, concurrency, rec);
  }

  /**
   * The issue's {@code dup-2} case: with -c 2 the second copy must stay active after the first
   * ends.
   */
  @Test
  void theSecondCopyOfAnIdStaysActiveAfterTheFirstEnds(Vertx vertx, VertxTestContext test)
      throws Exception {
    Context ctx = vertx.getOrCreateContext();
    Recorder rec = new Recorder();
    TaskPool pool = startPool(vertx, ctx, 2, rec);
    Request first = request("dup-2", "first");
    Request second = request("dup-2", "second");
    onLoop(
        ctx,
        () -> {
          pool.submit(first);
          pool.submit(second);
          return null;
        });
    await(ctx, () -> pool.activeCount() == 2);
    open("first");
    await(ctx, () -> rec.finished.size() == 1);
    assertEquals(1, onLoop(ctx, pool::activeCount), "the second copy still runs");
    assertEquals(
        List.of(second.delivery().deliveryTag()),
        onLoop(ctx, () -> pool.active().stream().map(r -> r.delivery().deliveryTag()).toList()),
        "inspect active shows the copy that still runs");
    open("second");
    await(ctx, () -> rec.finished.size() == 2 && pool.activeCount() == 0);
    assertEquals(
        List.of("first", "second"), rec.finished.stream().map(o -> (String) o.value()).toList());
    test.completeNow();
  }

  @Test
  void aRevokeByIdReachesEveryCopy(Vertx vertx, VertxTestContext test) throws Exception {
    Context ctx = vertx.getOrCreateContext();
    Recorder rec = new Recorder();
    TaskPool pool = startPool(vertx, ctx, 2, rec);
    Request running = request("dup-r", "a");
    Request blocker = request("other", "b");
    List<Request> waiting =
        List.of(request("dup-r", "c"), request("dup-r", "d"), request("dup-r", "e"));
    onLoop(
        ctx,
        () -> {
          pool.submit(running);
          pool.submit(blocker);
          waiting.forEach(pool::submit);
          return null;
        });
    await(ctx, () -> pool.activeCount() == 2);
    List<String> terminated = onLoop(ctx, () -> pool.revoke(List.of("dup-r"), true, "SIGTERM"));
    assertEquals(List.of("dup-r"), terminated, "the running copy was terminated");
    await(ctx, () -> rec.finished.size() == 4);
    assertEquals(
        4,
        rec.finished.stream().filter(o -> States.REVOKED.equals(o.state())).count(),
        "the running copy and the three waiting ones are revoked");
    assertEquals(1, onLoop(ctx, pool::activeCount), "only the other task still runs");
    assertEquals(0, onLoop(ctx, pool::queuedCount));
    open("b");
    await(ctx, () -> pool.activeCount() == 0 && rec.finished.size() == 5);
    test.completeNow();
  }
}

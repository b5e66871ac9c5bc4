package io.celerity.pool;

import static io.celerity.support.OnLoop.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.celerity.protocol.DeliveryFixtures;
import io.celerity.protocol.IsoTime;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A request whose {@code expires} passes while it waits for a free slot is revoked ("expired") when
 * it gets one, never run (Celery's Request.execute_using_pool). Here for a runner without a
 * lookahead (process pool, virtual threads); SemanticsInteropTest covers the thread pool's.
 */
@ExtendWith(VertxExtension.class)
class TaskPoolExpiryTest {

  private final TaskRegistry registry = new TaskRegistry().register("t.noop", ctx -> null);

  /** Starts nothing by itself: the test ends each job. */
  private static final class HeldRunner implements Runner {
    final List<Job> started = Collections.synchronizedList(new ArrayList<>());
    final List<Completion> completions = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void start(Job job, Completion completion) {
      started.add(job);
      completions.add(completion);
    }

    @Override
    public void softLimit(Job job) {}

    @Override
    public void hardLimit(Job job) {}

    @Override
    public void close() {}
  }

  private Request request(Instant expires, long tag) throws Exception {
    OutgoingMessage m =
        TaskMessages.create("t.noop", List.of(), Map.of(), "celery", "test", null, null, null);
    m.headers().put("expires", expires == null ? null : IsoTime.utc(expires));
    Delivery d = DeliveryFixtures.delivered(m, tag, 1L);
    return Request.builder(new MessageDecoder().decode(d), d, registry.get("t.noop"), "w@test")
        .build();
  }

  @Test
  void expiredWhileWaitingForASlotIsRevokedNotStarted(Vertx vertx, VertxTestContext test)
      throws Exception {
    Context ctx = vertx.getOrCreateContext();
    HeldRunner runner = new HeldRunner();
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
    Request blocker = request(null, 1);
    Request expiring = request(Instant.now().plusMillis(300), 2);
    onLoop(
        ctx,
        () -> {
          pool.submit(blocker);
          pool.submit(expiring);
          return null;
        });
    assertEquals(1, runner.started.size());
    assertEquals(1, onLoop(ctx, pool::queuedCount), "the expiring request waits for the slot");
    io.celerity.support.Polling.until(
        () -> Instant.now().isAfter(expiring.message().expires()), 10_000);
    runner.completions.get(0).done(null, null);
    io.celerity.support.Polling.until(() -> finished.size() == 2, 10_000);
    assertEquals(1, runner.started.size(), "the expired request never reached the runner");
    TaskOutcome revoked = finished.get(1);
    assertEquals(States.REVOKED, revoked.state());
    assertEquals(expiring.id(), revoked.request().id());
    assertEquals(List.of("expired"), revoked.error().args());
    assertEquals(false, revoked.started(), "never started: acked, not run");
    assertEquals(0, onLoop(ctx, pool::activeCount) + onLoop(ctx, pool::queuedCount));
    test.completeNow();
  }
}

package io.celerity.pool;

import static io.celerity.support.OnLoop.await;
import static io.celerity.support.OnLoop.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every message is contained, in the pool too: a request the runner refuses (it throws while taking
 * it) ends as FAILURE with the runner's error, one outcome only, and the requests behind it still
 * run.
 */
@ExtendWith(VertxExtension.class)
class TaskPoolRefusalTest {

  private final AtomicLong tags = new AtomicLong();
  private final TaskRegistry registry =
      new TaskRegistry().register("t.echo", ctx -> ctx.arg(0, String.class));
  private final ThreadRunner threads = new ThreadRunner("threads");

  @AfterEach
  void close() {
    threads.close();
  }

  /** Runs bodies on {@link #threads}, but throws for the request whose argument is "refuse". */
  private Runner refusing(boolean withLookahead) {
    return new Runner() {
      @Override
      public int lookahead(int concurrency) {
        return withLookahead ? threads.lookahead(concurrency) : 0;
      }

      @Override
      public io.vertx.core.Future<Void> warmUp(int concurrency) {
        return threads.warmUp(concurrency);
      }

      @Override
      public void start(Job job, Completion completion) {
        if ("refuse".equals(job.request().message().args().get(0))) {
          throw new IllegalStateException("no child can take this request");
        }
        if (withLookahead) {
          threads.start(job, completion);
        } else {
          // a runner without lookahead: the pool reported the start already; echo on another thread
          java.util.concurrent.CompletableFuture.runAsync(
              () -> completion.done(job.request().message().args().get(0), null));
        }
      }

      @Override
      public void softLimit(Job job) {}

      @Override
      public void hardLimit(Job job) {}

      @Override
      public void close() {}
    };
  }

  private Request request(String id, String arg) {
    OutgoingMessage m =
        TaskMessages.create("t.echo", List.of(arg), Map.of(), "celery", "test", null, null, null);
    m.headers().put("id", id);
    Delivery d = DeliveryFixtures.delivered(m, tags.incrementAndGet(), 1L);
    try {
      return Request.builder(new MessageDecoder().decode(d), d, registry.get("t.echo"), "w@test")
          .build();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @ParameterizedTest(name = "runner with lookahead: {0}")
  @ValueSource(booleans = {true, false})
  void aRefusedRequestFailsAndTheNextOnesRun(boolean lookahead, Vertx vertx, VertxTestContext test)
      throws Exception {
    Context ctx = vertx.getOrCreateContext();
    Recorder rec = new Recorder();
    TaskPool pool = PoolTesting.startPool(vertx, ctx, refusing(lookahead), 1, rec);
    onLoop(
        ctx,
        () -> {
          pool.submit(request("before", "a"));
          pool.submit(request("refused", "refuse"));
          pool.submit(request("after", "b"));
          return null;
        });
    await(ctx, () -> rec.finished.size() == 3 && pool.activeCount() == 0);
    Map<String, TaskOutcome> byId =
        rec.finished.stream()
            .collect(java.util.stream.Collectors.toMap(o -> o.message().id(), o -> o));
    assertEquals(3, byId.size(), "one outcome per request: " + rec.finished);
    assertEquals(States.SUCCESS, byId.get("before").state());
    assertEquals(States.SUCCESS, byId.get("after").state(), "the pool goes on after a refusal");
    TaskOutcome refused = byId.get("refused");
    assertEquals(States.FAILURE, refused.state());
    assertEquals("IllegalStateException", refused.error().type());
    assertTrue(refused.error().repr().contains("no child can take this request"));
    assertEquals(2L, refused.request().delivery().deliveryTag(), "the outcome settles its message");
    if (lookahead) {
      assertFalse(refused.started(), "never started: no early ack was sent for it");
    }
    assertEquals(0, onLoop(ctx, pool::queuedCount));
    assertTrue(onLoop(ctx, () -> pool.whenIdle().succeeded()), "the pool is idle again");
    test.completeNow();
  }
}

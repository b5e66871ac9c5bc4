package io.celerity.pool;

import io.celerity.it.Polling;
import io.celerity.types.Request;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** What the pool tests share: code run on the pool's event loop (where TaskPool must be used), a pool started there, and a listener recording what it reports. */
final class PoolTesting {

  private PoolTesting() {
  }

  static <T> T onLoop(Context ctx, Callable<T> body) throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    ctx.runOnContext(v -> {
      try {
        f.complete(body.call());
      } catch (Exception e) {
        f.completeExceptionally(e);
      }
    });
    return f.get(10, TimeUnit.SECONDS);
  }

  /** Polls {@code condition} on the loop until it holds (10 s at most). */
  static void await(Context ctx, Callable<Boolean> condition) throws Exception {
    Polling.until(() -> onLoop(ctx, condition), 10_000);
  }

  /** A pool on {@code ctx}'s event loop over {@code runner}, its threads started. */
  static TaskPool startPool(Vertx vertx, Context ctx, Runner runner, int concurrency, TaskPool.Listener listener)
    throws Exception {
    TaskPool pool = onLoop(ctx, () -> new TaskPool(vertx, ctx, runner, concurrency, listener));
    onLoop(ctx, pool::warmUp);
    return pool;
  }

  /** Records the requests a pool started and the outcomes it reported. */
  static final class Recorder implements TaskPool.Listener {
    final List<Request> started = Collections.synchronizedList(new ArrayList<>());
    final List<TaskOutcome> finished = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void started(Request request) {
      started.add(request);
    }

    @Override
    public void finished(TaskOutcome outcome) {
      finished.add(outcome);
    }
  }
}

package io.celerity.pool;

import io.celerity.types.Request;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static io.celerity.support.OnLoop.onLoop;

/** What the pool tests share: a pool started on an event loop (where TaskPool must be used), and a listener recording what it reports. */
final class PoolTesting {

  private PoolTesting() {
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

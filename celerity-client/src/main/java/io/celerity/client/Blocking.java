package io.celerity.client;

import io.vertx.core.Context;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The blocking face of the client: waits for a future off the event loop, and only there. */
final class Blocking {

  private Blocking() {}

  /**
   * Refuses to block a Vert.x event-loop thread: it would stall every connection and timer on that
   * loop, including the one that would complete the wait.
   */
  static void refuseOnEventLoop(String what) {
    if (Context.isOnEventLoopThread()) {
      throw new IllegalStateException(
          what
              + " blocks, and cannot run on a Vert.x event-loop thread ("
              + Thread.currentThread().getName()
              + "); use the Future variant instead");
    }
  }

  /** Waits at most {@code timeout} (null: no limit); unwraps the future's failure. */
  static <T> T await(Future<T> f, Duration timeout, String what) throws TimeoutException {
    refuseOnEventLoop(what);
    try {
      return timeout == null
          ? f.toCompletionStage().toCompletableFuture().get()
          : f.toCompletionStage()
              .toCompletableFuture()
              .get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(what + " interrupted", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(what + " failed: " + c, c);
    }
  }

  /**
   * {@link #await} where a timeout is a failure of the operation itself (publishing, connecting).
   */
  static <T> T awaitOrFail(Future<T> f, Duration timeout, String what) {
    try {
      return await(f, timeout, what);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          what + " did not complete within " + timeout.toMillis() + " ms", e);
    }
  }
}

package io.celerity.support;

import io.vertx.core.Context;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs test code on an event loop, where event-loop-confined classes must be used. */
public final class OnLoop {

  private OnLoop() {}

  /** Calls {@code body} on {@code ctx}'s event loop and returns its result (10 s at most). */
  public static <T> T onLoop(Context ctx, Callable<T> body) throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    ctx.runOnContext(
        v -> {
          try {
            f.complete(body.call());
          } catch (Exception e) {
            f.completeExceptionally(e);
          }
        });
    return f.get(10, TimeUnit.SECONDS);
  }

  /** Polls {@code condition} on the loop until it holds (10 s at most). */
  public static void await(Context ctx, Callable<Boolean> condition) throws Exception {
    Polling.until(() -> onLoop(ctx, condition), 10_000);
  }
}

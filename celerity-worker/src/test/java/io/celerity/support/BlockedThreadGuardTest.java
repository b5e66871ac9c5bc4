package io.celerity.support;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The guard really sees a blocked event loop (otherwise the guarantee it gives every test is empty). */
class BlockedThreadGuardTest {

  @Test
  void blockedEventLoopIsReported() throws Exception {
    Vertx vertx = BlockedThreadGuard.strictVertx();
    CountDownLatch done = new CountDownLatch(1);
    vertx.runOnContext(v -> {
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(900);
      while (System.nanoTime() < end) {
        Thread.onSpinWait(); // deliberately hog the event loop
      }
      done.countDown();
    });
    assertTrue(done.await(10, TimeUnit.SECONDS));
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    List<String> warnings = BlockedThreadGuard.drain();
    assertFalse(warnings.isEmpty(), "expected a blocked-thread warning from Vert.x");
    assertTrue(warnings.get(0).contains("blocked"), warnings.get(0));
  }
}

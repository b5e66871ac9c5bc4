package io.celerity.support;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The guard really sees a blocked event loop (otherwise the guarantee it gives every test is
 * empty).
 */
class BlockedThreadGuardTest {

  @Test
  void blockedEventLoopIsReported() throws Exception {
    Vertx vertx = BlockedThreadGuard.strictVertx();
    CountDownLatch done = new CountDownLatch(1);
    vertx.runOnContext(
        v -> {
          // deliberately hog the event loop for 900 ms of CPU (longer on a loaded machine)
          java.lang.management.ThreadMXBean threads =
              java.lang.management.ManagementFactory.getThreadMXBean();
          long end = threads.getCurrentThreadCpuTime() + TimeUnit.MILLISECONDS.toNanos(900);
          while (threads.getCurrentThreadCpuTime() < end) {
            Thread.onSpinWait();
          }
          done.countDown();
        });
    assertTrue(done.await(60, TimeUnit.SECONDS));
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    List<String> warnings = BlockedThreadGuard.drain();
    assertFalse(warnings.isEmpty(), "expected a blocked-thread warning from Vert.x");
    assertTrue(
        warnings.get(0).contains("blocked") && warnings.get(0).contains("computing"),
        warnings.get(0));
  }

  @Test
  void aBlockingCallOnTheEventLoopIsReported() throws Exception {
    Vertx vertx = BlockedThreadGuard.strictVertx();
    CountDownLatch done = new CountDownLatch(1);
    vertx.runOnContext(
        v -> {
          try {
            Thread.sleep(800); // deliberately block the event loop
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          done.countDown();
        });
    assertTrue(done.await(10, TimeUnit.SECONDS));
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    List<String> warnings = BlockedThreadGuard.drain();
    assertFalse(warnings.isEmpty(), "expected a blocked-thread warning");
    assertTrue(
        warnings.get(0).contains("waiting (TIMED_WAITING)")
            && warnings.get(0).contains("Thread.sleep"),
        warnings.get(0));
  }
}

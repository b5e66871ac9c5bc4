package io.celerity.support;

import java.util.concurrent.Callable;

/** Waits for a condition by polling, with a deadline: for state that has no event to wait on. */
public final class Polling {

  private Polling() {}

  public static void until(Callable<Boolean> condition, long timeoutMs) throws Exception {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    while (!condition.call()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + timeoutMs + " ms");
      }
      Thread.onSpinWait();
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
    }
  }
}

package io.celerity.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.types.Delivery;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class UnsettledWatchdogTest {

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final Unsettled unsettled = new Unsettled();
  private final List<Integer> reports = new ArrayList<>();
  private Set<String> poolHolds = Set.of();

  private final UnsettledWatchdog watchdog =
      new UnsettledWatchdog(
          unsettled, 60_000, now::get, () -> Future.succeededFuture(poolHolds), reports::add);

  private static Delivery delivery(long tag) {
    return new Delivery(
        new byte[0],
        "application/json",
        "utf-8",
        Map.of(),
        null,
        null,
        0,
        "",
        "q",
        "q",
        false,
        tag,
        1L);
  }

  private Delivery received(long tag, String id, Unsettled.Stage stage) {
    Delivery d = delivery(tag);
    unsettled.received(d, id, now.get());
    unsettled.stage(d, stage);
    return d;
  }

  @Test
  void onlyOldDeliveriesThatNothingHoldsAreStuck() {
    received(1, "held-eta", Unsettled.Stage.HELD);
    received(2, "running", Unsettled.Stage.DISPATCHED);
    received(3, "lost-in-pool", Unsettled.Stage.DISPATCHED);
    received(4, "never-decided", Unsettled.Stage.RECEIVED);
    poolHolds = Set.of("running");

    assertEquals(0, watchdog.check().result(), "nothing is stuck before the deadline");
    now.addAndGet(60_001);
    assertEquals(
        2,
        watchdog.check().result(),
        "the lost one and the undecided one, not the held or running ones");
    assertEquals(2, watchdog.stuck());
    assertEquals(List.of(0, 2), reports);
  }

  @Test
  void aSettledDeliveryIsNoLongerStuckAndThePoolNotAnsweringChangesNothing() {
    Delivery lost = received(1, "lost", Unsettled.Stage.DISPATCHED);
    now.addAndGet(120_000);
    assertEquals(1, watchdog.check().result());
    assertTrue(unsettled.settle(lost));
    assertEquals(0, watchdog.check().result(), "settled later (e.g. by hand): no longer reported");

    received(2, "other", Unsettled.Stage.DISPATCHED);
    now.addAndGet(120_000);
    UnsettledWatchdog silentPool =
        new UnsettledWatchdog(
            unsettled, 60_000, now::get, () -> Future.failedFuture("no reply"), reports::add);
    assertEquals(0, silentPool.check().result(), "no answer from the pool is no evidence");
  }
}

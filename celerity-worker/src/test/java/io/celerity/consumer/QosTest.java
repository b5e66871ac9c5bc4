package io.celerity.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The prefetch count told to the broker while requests are held (Celery raises it by one per held
 * request).
 */
class QosTest {

  private final List<Integer> told = new ArrayList<>();

  @Test
  void heldRequestsRaiseTheCountAndTheBrokerIsToldOnlyOfChanges() {
    Qos qos = new Qos(4, null, told::add);
    qos.update(2, 0);
    qos.update(2, 0);
    qos.update(0, 0);
    assertEquals(List.of(6, 4), told);
    assertEquals(4, qos.applied());
  }

  @Test
  void rateLimitedRequestsRaiseItByOnePrefetchAtMost() {
    Qos qos = new Qos(4, null, told::add);
    qos.update(0, 3);
    qos.update(0, 100);
    assertEquals(List.of(7, 8), told);
  }

  @Test
  void etaTaskLimitCapsTheRaise() {
    Qos qos = new Qos(4, 2, told::add);
    qos.update(5, 3);
    assertEquals(List.of(6), told);
  }

  @Test
  void theCountStaysWithinAmqpSixteenBits() {
    Qos qos = new Qos(65_000, null, told::add);
    qos.update(10_000, 0);
    assertEquals(List.of(Qos.MAX_PREFETCH), told);
  }

  @Test
  void unlimitedPrefetchIsNeverRaised() {
    Qos qos = new Qos(0, null, told::add);
    qos.update(50, 50);
    assertEquals(List.of(), told);
    assertEquals(0, qos.applied());
  }
}

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
  void pastAmqpSixteenBitsTheLimitIsLiftedAsKombuDoes() {
    Qos qos = new Qos(65_000, null, told::add);
    qos.update(535, 0);
    qos.update(536, 0);
    qos.update(10, 0);
    // 65,535 still fits; one more lifts the limit (0 = unlimited) rather than capping it, so held
    // ETA tasks cannot fill the window and stop deliveries; it comes back once they are released
    assertEquals(List.of(65_535, 0, 65_010), told);
  }

  @Test
  void unlimitedPrefetchIsNeverRaised() {
    Qos qos = new Qos(0, null, told::add);
    qos.update(50, 50);
    assertEquals(List.of(), told);
    assertEquals(0, qos.applied());
  }
}

package io.celerity.transport.amqp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.transport.amqp.AckBatcher.AckOp;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AckBatcherTest {

  private static AckBatcher delivered(long... tags) {
    AckBatcher b = new AckBatcher();
    for (long t : tags) {
      b.delivered(t);
    }
    return b;
  }

  @Test
  void runFromTheOldestBecomesOneMultipleAck() {
    AckBatcher b = delivered(1, 2, 3, 4, 5);
    assertTrue(b.ack(2));
    assertTrue(b.ack(1));
    assertTrue(b.ack(3));
    assertTrue(b.hasPending());
    assertEquals(List.of(new AckOp(3, true)), b.drain());
    assertEquals(2, b.unsettledCount());
    assertFalse(b.hasPending());
  }

  @Test
  void singleAckIsNotMultiple() {
    AckBatcher b = delivered(1, 2);
    b.ack(1);
    assertEquals(List.of(new AckOp(1, false)), b.drain());
    assertEquals(1, b.unsettledCount());
  }

  @Test
  void gapsProduceIndividualAcks() {
    AckBatcher b = delivered(1, 2, 3, 4, 5);
    b.ack(1);
    b.ack(3);
    b.ack(5);
    List<AckOp> ops = b.drain();
    assertEquals(
        Set.of(new AckOp(1, false), new AckOp(3, false), new AckOp(5, false)), new HashSet<>(ops));
    assertEquals(3, ops.size());
    assertEquals(2, b.unsettledCount());
  }

  @Test
  void neverAMultipleAckOverAnUnackedOlderDelivery() {
    AckBatcher b = delivered(1, 2, 3);
    b.ack(2);
    b.ack(3);
    List<AckOp> ops = b.drain();
    // a multiple ack of 3 would also ack 1, which is still running
    assertEquals(Set.of(new AckOp(2, false), new AckOp(3, false)), new HashSet<>(ops));
    assertEquals(1, b.unsettledCount());
    assertTrue(b.ack(1));
    assertEquals(List.of(new AckOp(1, false)), b.drain());
    assertEquals(0, b.unsettledCount());
  }

  @Test
  void runThenGap() {
    AckBatcher b = delivered(1, 2, 3, 4, 5, 6);
    for (long t : new long[] {1, 2, 4, 6}) {
      b.ack(t);
    }
    List<AckOp> ops = b.drain();
    assertEquals(new AckOp(2, true), ops.get(0));
    assertEquals(
        Set.of(new AckOp(2, true), new AckOp(4, false), new AckOp(6, false)), new HashSet<>(ops));
    assertEquals(2, b.unsettledCount());
  }

  @Test
  void settleRemovesTheTagSoTheNextRunStartsAfterIt() {
    AckBatcher b = delivered(1, 2, 3);
    assertTrue(b.settle(1)); // rejected elsewhere
    b.ack(2);
    b.ack(3);
    assertEquals(List.of(new AckOp(3, true)), b.drain());
    assertEquals(0, b.unsettledCount());
  }

  @Test
  void settleCancelsAPendingAck() {
    AckBatcher b = delivered(1);
    b.ack(1);
    assertTrue(b.settle(1));
    assertFalse(b.hasPending());
    assertEquals(List.of(), b.drain());
    assertFalse(b.settle(1));
  }

  @Test
  void unknownTagIsNotAcked() {
    AckBatcher b = delivered(1, 2);
    assertFalse(b.ack(99));
    assertFalse(b.hasPending());
    assertFalse(b.settle(99));
    assertEquals(2, b.unsettledCount());
  }

  @Test
  void alreadyAckedTagCannotBeAckedAgain() {
    AckBatcher b = delivered(1);
    b.ack(1);
    b.drain();
    assertFalse(b.ack(1));
    assertEquals(List.of(), b.drain());
  }

  @Test
  void batchesContinueAfterADrain() {
    AckBatcher b = delivered(1, 2, 3);
    b.ack(1);
    b.drain();
    b.delivered(4);
    b.ack(2);
    b.ack(3);
    b.ack(4);
    assertEquals(List.of(new AckOp(4, true)), b.drain());
  }

  @Test
  void drainWithNothingPendingSendsNothing() {
    AckBatcher b = delivered(1, 2);
    assertEquals(List.of(), b.drain());
    assertEquals(2, b.unsettledCount());
  }

  @Test
  void resetForgetsEverything() {
    AckBatcher b = delivered(1, 2, 3);
    b.ack(1);
    b.reset();
    assertEquals(0, b.unsettledCount());
    assertFalse(b.hasPending());
    assertFalse(b.ack(2));
    assertEquals(List.of(), b.drain());
    // a new channel starts numbering at 1 again
    b.delivered(1);
    assertTrue(b.ack(1));
    assertEquals(List.of(new AckOp(1, false)), b.drain());
  }
}

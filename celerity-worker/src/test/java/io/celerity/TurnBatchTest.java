package io.celerity;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TurnBatchTest {

  private final List<Runnable> endOfTurn = new ArrayList<>();
  private final List<List<String>> sent = new ArrayList<>();
  private final TurnBatch<String> batch = new TurnBatch<>(endOfTurn::add, sent::add);

  private void endTurn() {
    List<Runnable> tasks = new ArrayList<>(endOfTurn);
    endOfTurn.clear();
    tasks.forEach(Runnable::run);
  }

  @Test
  void whatOneTurnAddsGoesAsOneBatchInOrder() {
    batch.add("a");
    batch.add("b");
    batch.add("c");
    assertEquals(1, endOfTurn.size(), "one end-of-turn task for the whole turn");
    assertEquals(List.of(), sent);
    endTurn();
    assertEquals(List.of(List.of("a", "b", "c")), sent);
  }

  @Test
  void flushSendsWhatIsPendingAtOnceAndTheEndOfTheTurnSendsNothingMore() {
    batch.add("a");
    batch.flush();
    assertEquals(List.of(List.of("a")), sent);
    endTurn();
    assertEquals(1, sent.size());
  }

  @Test
  void aFlushMidTurnKeepsTheOrderOfWhatFollows() {
    batch.add("a");
    batch.flush();
    batch.add("b");
    endTurn();
    assertEquals(List.of(List.of("a"), List.of("b")), sent);
  }

  @Test
  void theNextTurnStartsANewBatch() {
    batch.add("a");
    endTurn();
    batch.add("b");
    endTurn();
    assertEquals(List.of(List.of("a"), List.of("b")), sent);
  }

  @Test
  void flushWithNothingPendingSendsNothing() {
    batch.flush();
    endTurn();
    assertEquals(List.of(), sent);
  }
}

package io.celerity;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Collects what one event-loop turn produces for another verticle and sends it as one event-bus
 * message at the end of the turn: deliveries and pool reports arrive in bursts (the mailboxes drain
 * many per turn), and one message per burst costs one hand-off instead of one per item. Order is
 * kept; {@link #flush()} sends what is pending at once, for a message that must not overtake it.
 * Event-loop confined.
 */
public final class TurnBatch<T> {

  private final Consumer<Runnable> endOfTurn;
  private final Consumer<List<T>> send;
  private List<T> pending = new ArrayList<>();

  /**
   * @param endOfTurn runs a task after the current one on this event loop ({@code
   *     context::runOnContext})
   * @param send sends a non-empty batch
   */
  public TurnBatch(Consumer<Runnable> endOfTurn, Consumer<List<T>> send) {
    this.endOfTurn = endOfTurn;
    this.send = send;
  }

  public void add(T item) {
    pending.add(item);
    if (pending.size() == 1) {
      endOfTurn.accept(this::flush);
    }
  }

  /** Sends what is pending now (a no-op when nothing is, e.g. when the end of the turn comes). */
  public void flush() {
    if (pending.isEmpty()) {
      return;
    }
    List<T> batch = pending;
    pending = new ArrayList<>();
    send.accept(batch);
  }
}

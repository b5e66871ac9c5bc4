package io.celerity.types;

/**
 * What to do with a delivery once its fate is known.
 *
 * @param delivery the delivery
 * @param action ack, reject (drop) or requeue
 */
public record Settle(Delivery delivery, Action action) {

  /** How a delivery is settled. */
  public enum Action {
    ACK,
    REJECT,
    REQUEUE
  }

  /** Settlements sent together, in order. */
  public record Batch(java.util.List<Settle> settles) {}

  public static Settle ack(Delivery d) {
    return new Settle(d, Action.ACK);
  }

  public static Settle reject(Delivery d) {
    return new Settle(d, Action.REJECT);
  }

  public static Settle requeue(Delivery d) {
    return new Settle(d, Action.REQUEUE);
  }
}

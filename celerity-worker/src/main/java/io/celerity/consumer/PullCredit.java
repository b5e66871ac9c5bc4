package io.celerity.consumer;

import io.celerity.types.Request;
import java.util.HashSet;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * {@code disable_prefetch} bookkeeping: the transport takes one message per credit, and credit
 * equals free pool slots. A message that will not occupy a slot soon (held for its ETA or its rate
 * limit, or not a runnable request at all) gives its credit back at once; a held request that later
 * enters the pool then owes one, paid from the next freed slot. Event-loop confined; inert when
 * pull mode is off.
 */
final class PullCredit {

  private final boolean enabled;
  private final IntConsumer grant;
  private final Set<String> heldIds = new HashSet<>();
  private int debt;

  PullCredit(boolean enabled, IntConsumer grant) {
    this.enabled = enabled;
    this.grant = grant;
  }

  /** Pool slots freed (or, at start, the pool's size). */
  void slotsFreed(int n) {
    if (!enabled || n <= 0) {
      return;
    }
    int pay = Math.min(n, debt);
    debt -= pay;
    if (n > pay) {
      grant.accept(n - pay);
    }
  }

  /** Held before the pool (ETA, rate limit): its credit goes back now. */
  void held(Request r) {
    if (enabled && heldIds.add(r.id())) {
      grant.accept(1);
    }
  }

  /** Entered the pool. */
  void dispatched(Request r) {
    if (enabled && heldIds.remove(r.id())) {
      debt++;
    }
  }

  /** Settled without reaching the pool (revoked, expired). */
  void discarded(Request r) {
    if (enabled && !heldIds.remove(r.id())) {
      grant.accept(1);
    }
  }

  /** A delivery that was not a runnable request (invalid, undecodable, unknown task). */
  void notARequest() {
    if (enabled) {
      grant.accept(1);
    }
  }
}

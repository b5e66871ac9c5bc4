package io.celerity.transport;

/**
 * Pull-mode bookkeeping shared by the transports ({@code disable_prefetch}): whether the transport
 * pulls at all and how many messages it may still take. Subclasses take one credit per message and
 * start fetching again in {@link #creditGranted()}. Event-loop confined.
 */
public abstract class PullSupport implements Transport {

  /** Pull mode was chosen before start. */
  protected boolean pull;

  /** Messages that may still be taken in pull mode. */
  protected int credit;

  @Override
  public void pullOnly() {
    pull = true;
  }

  @Override
  public void grant(int n) {
    credit += n;
    creditGranted();
  }

  /** New credit arrived: fetch if the transport can. */
  protected abstract void creditGranted();
}

package io.celerity.backend;

/**
 * The chord counters after one header task reported (Celery's {@code .j/.t/.s} keys).
 *
 * @param added whether this report was new (a redelivered task re-adding the same entry is not)
 * @param ready header results recorded so far
 * @param size chord size ({@code .s}), or null when none was stored
 * @param extra tasks added at run time ({@code .t})
 */
public record ChordCount(boolean added, long ready, Long size, long extra) {

  /**
   * True for exactly one report: the new one that brought the count to the total. Celery checks
   * only the count; also requiring {@code added} keeps a redelivered last member from firing the
   * body twice.
   */
  public boolean completes() {
    return added && size != null && ready == size + extra;
  }
}

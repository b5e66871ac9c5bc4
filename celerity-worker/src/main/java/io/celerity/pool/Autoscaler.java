package io.celerity.pool;

/**
 * Celery's autoscaler ({@code --autoscale MAX,MIN}), ticked every second on the dispatcher's event
 * loop: grow at once to cover the requests waiting or running (up to MAX); shrink by one slot per
 * tick once the load has stayed below the pool size for {@code keepalive} seconds (down to MIN).
 */
final class Autoscaler {

  private final TaskPool pool;
  private int max;
  private int min;
  private final long keepaliveNanos;
  private long lastBusyNanos = System.nanoTime();

  Autoscaler(TaskPool pool, int max, int min, double keepaliveSeconds) {
    this.pool = pool;
    this.max = max;
    this.min = min;
    this.keepaliveNanos = (long) (keepaliveSeconds * 1e9);
  }

  /** Celery's {@code autoscale} command: a new range, applied from the next tick. */
  void range(int newMax, int newMin) {
    max = newMax;
    min = newMin;
  }

  void tick(long now) {
    int load = pool.activeCount() + pool.queuedCount();
    int procs = pool.concurrency();
    if (load >= procs) {
      lastBusyNanos = now;
    }
    if (load > procs && procs < max) {
      pool.resize(Math.min(load, max));
    } else if (load < procs && procs > min && now - lastBusyNanos >= keepaliveNanos) {
      pool.resize(procs - 1);
    }
  }
}

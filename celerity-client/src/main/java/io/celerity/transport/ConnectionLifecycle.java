package io.celerity.transport;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;
import org.slf4j.Logger;

/**
 * The broker connection's life, one explicit state machine for every transport:
 *
 * <pre>
 * DISCONNECTED -> CONNECTING -> CONNECTED -> LOST -> BACKOFF -> CONNECTING -> ...
 *                     |                                  ^
 *                     +---- attempt failed --------------+   (at start-up at most max_retries times)
 * any state -> CLOSING -> CLOSED
 * </pre>
 *
 * Every attempt gets a new generation; a callback of an older generation (a late reply, a close
 * event of a replaced connection) finds {@link #isCurrent} false and does nothing, so no transport
 * has to remember its own guard. The delay between attempts starts at 200 ms and doubles up to
 * {@code reconnect_max_delay_ms}. Before the first connection the attempts are bounded as Celery
 * bounds them ({@code broker_connection_retry_on_startup}, {@code broker_connection_max_retries});
 * after a loss the transport retries for ever.
 *
 * <p>Not thread-safe: used on the transport's event loop only. Timers are given, so the class is
 * tested without Vert.x or a broker.
 */
public final class ConnectionLifecycle {

  public enum State {
    DISCONNECTED,
    CONNECTING,
    CONNECTED,
    LOST,
    BACKOFF,
    CLOSING,
    CLOSED
  }

  /**
   * @param initialDelayMs first delay after a failed attempt or a loss
   * @param maxDelayMs cap of the doubling delay ({@code reconnect_max_delay_ms})
   * @param retryOnStartup retry when the very first attempt fails ({@code
   *     broker_connection_retry_on_startup})
   * @param maxRetries attempts after the first one before start-up gives up ({@code
   *     broker_connection_max_retries}; 0 = no limit)
   */
  public record Policy(
      long initialDelayMs, long maxDelayMs, boolean retryOnStartup, int maxRetries) {
    public static final long INITIAL_DELAY_MS = 200;

    public static Policy of(TransportOptions o) {
      return new Policy(
          INITIAL_DELAY_MS,
          Math.max(INITIAL_DELAY_MS, o.reconnectMaxDelayMs()),
          o.retryOnStartup(),
          o.maxRetries());
    }
  }

  /** Where delays run: {@code vertx::setTimer} in production, a fake clock in tests. */
  public interface Timers {
    long setTimer(long delayMs, Runnable task);

    void cancelTimer(long id);

    /** Vert.x's timers, on the caller's context. */
    static Timers of(io.vertx.core.Vertx vertx) {
      return new Timers() {
        @Override
        public long setTimer(long delayMs, Runnable task) {
          return vertx.setTimer(delayMs, id -> task.run());
        }

        @Override
        public void cancelTimer(long id) {
          vertx.cancelTimer(id);
        }
      };
    }
  }

  private final String url;
  private final Policy policy;
  private final Timers timers;
  private final Logger log;
  private final Promise<Void> firstConnection = Promise.promise();
  private final List<LongConsumer> lostHandlers = new ArrayList<>();
  private final List<Promise<Void>> connectedWaiters = new ArrayList<>();

  private State state = State.DISCONNECTED;
  private LongFunction<Future<Void>> connector;
  private long generation;
  private long delayMs;
  private int failedAttempts;
  private boolean everConnected;
  private long reconnects;
  private long timer = -1;

  /**
   * @param url the broker URL with its password redacted, for log lines
   * @param policy retry policy
   * @param timers timers
   * @param log the transport's logger
   */
  public ConnectionLifecycle(String url, Policy policy, Timers timers, Logger log) {
    this.url = url;
    this.policy = policy;
    this.timers = timers;
    this.log = log;
    this.delayMs = policy.initialDelayMs();
  }

  /**
   * Starts connecting with {@code connector}, which opens everything of one generation (and closes
   * what it opened when it fails). Completes at the first connection; fails when start-up gives up
   * or the lifecycle is closed first.
   */
  public Future<Void> start(LongFunction<Future<Void>> connector) {
    if (state != State.DISCONNECTED) {
      return firstConnection.future();
    }
    this.connector = connector;
    attempt();
    return firstConnection.future();
  }

  /** Runs when a connection of the given generation is lost, before the reconnect is scheduled. */
  public void onLost(LongConsumer handler) {
    lostHandlers.add(handler);
  }

  private void attempt() {
    timer = -1;
    state = State.CONNECTING;
    long gen = ++generation;
    Future<Void> opened;
    try {
      opened = connector.apply(gen);
    } catch (RuntimeException e) {
      opened = Future.failedFuture(e);
    }
    opened.onComplete(
        ar -> {
          if (gen != generation || state != State.CONNECTING) {
            return; // closed meanwhile: the transport's close() releases what this attempt opened
          }
          if (ar.succeeded()) {
            connected();
          } else {
            attemptFailed(ar.cause());
          }
        });
  }

  private void connected() {
    state = State.CONNECTED;
    delayMs = policy.initialDelayMs();
    failedAttempts = 0;
    if (everConnected) {
      reconnects++;
    }
    everConnected = true;
    firstConnection.tryComplete();
    List<Promise<Void>> waiting = new ArrayList<>(connectedWaiters);
    connectedWaiters.clear();
    waiting.forEach(Promise::tryComplete);
  }

  private void attemptFailed(Throwable err) {
    failedAttempts++;
    String why = describe(err);
    boolean refused =
        err instanceof QueueDeclarationException; // a configuration mismatch: retrying cannot help
    if (!everConnected
        && (refused
            || !policy.retryOnStartup()
            || (policy.maxRetries() > 0 && failedAttempts > policy.maxRetries()))) {
      log.error(
          "Cannot connect to {}: {}. {}",
          url,
          why,
          refused
              ? "Not retrying: the broker refused the declaration."
              : policy.retryOnStartup()
                  ? "Giving up after "
                      + policy.maxRetries()
                      + " retries (broker_connection_max_retries)."
                  : "Not retrying (broker_connection_retry_on_startup is off).");
      state = State.CLOSED;
      firstConnection.tryFail(
          new BrokerUnreachableException("Cannot connect to " + url + ": " + why));
      failWaiters();
      return;
    }
    long delay = nextDelay();
    String attempts =
        everConnected || policy.maxRetries() <= 0
            ? ""
            : " (" + failedAttempts + "/" + policy.maxRetries() + ")";
    log.error(
        "Cannot connect to {}: {}. Trying again in {} seconds...{}",
        url,
        why,
        String.format(Locale.ROOT, "%.2f", delay / 1000.0),
        attempts);
    backoff(delay);
  }

  /**
   * The connection of {@code gen} is lost. Returns false, doing nothing, when {@code gen} is not
   * the current connection (an old one's late close event) or the lifecycle is closing; otherwise
   * runs the lost handlers and schedules a reconnect.
   */
  public boolean lost(long gen, String why) {
    if (gen != generation || state != State.CONNECTED) {
      return false;
    }
    state = State.LOST;
    log.warn("Connection to broker {} lost: {}", url, why);
    for (LongConsumer h : List.copyOf(lostHandlers)) {
      h.accept(gen);
    }
    if (state == State.LOST) { // a handler may have closed us
      long delay = nextDelay();
      log.info("Reconnecting to {} in {} ms", url, delay);
      backoff(delay);
    }
    return true;
  }

  private void backoff(long delay) {
    state = State.BACKOFF;
    timer = timers.setTimer(delay, this::attempt);
  }

  private long nextDelay() {
    long d = delayMs;
    delayMs = Math.min(delayMs * 2, policy.maxDelayMs());
    return d;
  }

  /**
   * Stops every attempt and reconnect: CLOSING until {@link #closed()}. Returns false if already
   * closing.
   */
  public boolean closing() {
    if (state == State.CLOSING || state == State.CLOSED) {
      return false;
    }
    state = State.CLOSING;
    generation++; // whatever is in flight is now of an old generation
    if (timer >= 0) {
      timers.cancelTimer(timer);
      timer = -1;
    }
    firstConnection.tryFail(
        new BrokerUnreachableException("transport closed before connecting to " + url));
    failWaiters();
    return true;
  }

  public void closed() {
    if (state != State.CLOSED) {
      closing();
      state = State.CLOSED;
    }
  }

  private void failWaiters() {
    List<Promise<Void>> waiting = new ArrayList<>(connectedWaiters);
    connectedWaiters.clear();
    waiting.forEach(p -> p.tryFail("transport closed"));
  }

  /** Completes when connected (at once if connected now); fails if closed first. */
  public Future<Void> whenConnected() {
    if (state == State.CONNECTED) {
      return Future.succeededFuture();
    }
    if (state == State.CLOSING || state == State.CLOSED) {
      return Future.failedFuture("transport closed");
    }
    Promise<Void> p = Promise.promise();
    connectedWaiters.add(p);
    return p.future();
  }

  /** True when {@code gen} is the connection that is up now. */
  public boolean isCurrent(long gen) {
    return gen == generation && state == State.CONNECTED;
  }

  public boolean isConnected() {
    return state == State.CONNECTED;
  }

  public boolean isClosing() {
    return state == State.CLOSING || state == State.CLOSED;
  }

  public State state() {
    return state;
  }

  /** The generation of the current (or last) attempt. */
  public long generation() {
    return generation;
  }

  /** True once a connection was up (later attempts are reconnects). */
  public boolean everConnected() {
    return everConnected;
  }

  /** Connections re-established after a loss. */
  public long reconnects() {
    return reconnects;
  }

  /**
   * An error for a log line: its message, or the first cause with one, never "null". A TLS failure
   * also names its root cause (a client's "Failed to create SSL connection" alone does not say that
   * the certificate is for another host).
   */
  public static String describe(Throwable err) {
    String why = null;
    String tlsRoot = null;
    boolean tls = false;
    for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage();
      tls |=
          t instanceof javax.net.ssl.SSLException
              || t instanceof java.security.cert.CertificateException;
      if (m != null && !m.isBlank()) {
        if (why == null) {
          why = t == err ? m : err.getClass().getSimpleName() + ": " + m;
        }
        tlsRoot = m;
      }
    }
    if (why == null) {
      return err == null ? "unknown error" : err.getClass().getName();
    }
    return tls && !why.contains(tlsRoot) ? why + " (TLS: " + tlsRoot + ")" : why;
  }

  @Override
  public String toString() {
    return state + " generation=" + generation;
  }
}

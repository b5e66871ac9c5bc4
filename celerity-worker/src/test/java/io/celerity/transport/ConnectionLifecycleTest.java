package io.celerity.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The connection state machine on a fake clock, without a broker. */
class ConnectionLifecycleTest {

  /** Timers that run only when the test advances the clock. */
  private static final class FakeTimers implements ConnectionLifecycle.Timers {
    final TreeMap<Long, Runnable> due = new TreeMap<>();
    final List<Long> delays = new ArrayList<>();
    long now;
    long ids;

    @Override
    public long setTimer(long delayMs, Runnable task) {
      delays.add(delayMs);
      due.put(
          now + delayMs + (ids++) * 1_000_000_000L,
          task); // unique keys; one pending timer at a time here
      return ids;
    }

    @Override
    public void cancelTimer(long id) {
      due.clear();
    }

    /** Runs the next timer. */
    void fire() {
      Runnable r = due.pollFirstEntry().getValue();
      r.run();
    }
  }

  private final FakeTimers timers = new FakeTimers();

  /** Each attempt's promise, completed by the test. */
  private final List<Promise<Void>> attempts = new ArrayList<>();

  private final List<Long> generations = new ArrayList<>();

  private ConnectionLifecycle lifecycle(boolean retryOnStartup, int maxRetries) {
    return new ConnectionLifecycle(
        "amqp://guest:**@127.0.0.1:5672//",
        new ConnectionLifecycle.Policy(200, 1000, retryOnStartup, maxRetries),
        timers,
        LoggerFactory.getLogger(ConnectionLifecycleTest.class));
  }

  private Future<Void> connect(long gen) {
    generations.add(gen);
    Promise<Void> p = Promise.promise();
    attempts.add(p);
    return p.future();
  }

  private Promise<Void> last() {
    return attempts.get(attempts.size() - 1);
  }

  @Test
  void aRefusedDeclarationFailsStartUpAtOnceSayingWhat() {
    ConnectionLifecycle lc = lifecycle(true, 100);
    Future<Void> started = lc.start(this::connect);
    last()
        .fail(
            new QueueDeclarationException(
                "declaring queue 'q' failed: PRECONDITION_FAILED - inequivalent arg"));
    assertTrue(started.failed());
    assertEquals(
        1, attempts.size(), "not retried: the broker refuses the same declaration every time");
    assertTrue(
        started.cause().getMessage().contains("declaring queue 'q' failed"),
        started.cause().getMessage());
    assertTrue(timers.due.isEmpty());
  }

  @Test
  void connectsLosesBacksOffAndReconnectsWithANewGeneration() {
    ConnectionLifecycle lc = lifecycle(true, 100);
    List<Long> lost = new ArrayList<>();
    lc.onLost(lost::add);
    Future<Void> started = lc.start(this::connect);
    assertEquals(ConnectionLifecycle.State.CONNECTING, lc.state());
    last().complete();
    assertTrue(started.succeeded());
    assertTrue(lc.isConnected());
    long first = lc.generation();
    assertTrue(lc.isCurrent(first));

    assertTrue(lc.lost(first, "socket closed"));
    assertEquals(List.of(first), lost, "the transport cleans up the lost generation");
    assertEquals(ConnectionLifecycle.State.BACKOFF, lc.state());
    assertFalse(
        lc.lost(first, "the same loss reported twice"), "a second report of one loss does nothing");
    assertEquals(1, lost.size());

    timers.fire();
    assertEquals(ConnectionLifecycle.State.CONNECTING, lc.state());
    long second = lc.generation();
    assertTrue(second > first);
    last().fail("refused");
    assertEquals(
        ConnectionLifecycle.State.BACKOFF,
        lc.state(),
        "after a loss the transport retries for ever");
    timers.fire();
    last().complete();
    assertTrue(lc.isConnected());
    assertEquals(1, lc.reconnects());
    assertFalse(lc.isCurrent(first), "a late callback of the old connection is not current");
    assertFalse(lc.lost(first, "late close of the old connection"));
    assertTrue(lc.isConnected());
  }

  @Test
  void backoffDoublesUpToTheCapAndResetsOnConnect() {
    ConnectionLifecycle lc = lifecycle(true, 0);
    lc.start(this::connect);
    for (int i = 0; i < 5; i++) {
      last().fail("refused");
      timers.fire();
    }
    assertEquals(List.of(200L, 400L, 800L, 1000L, 1000L), timers.delays);
    last().complete();
    lc.lost(lc.generation(), "gone");
    assertEquals(
        200L,
        timers.delays.get(timers.delays.size() - 1),
        "a connection that was up resets the delay");
  }

  @Test
  void startUpGivesUpAfterMaxRetries() {
    ConnectionLifecycle lc = lifecycle(true, 2);
    Future<Void> started = lc.start(this::connect);
    last().fail("Connection refused");
    timers.fire();
    last().fail("Connection refused");
    timers.fire();
    assertFalse(started.isComplete(), "two retries allowed");
    last().fail("Connection refused");
    assertTrue(started.failed());
    assertInstanceOf(BrokerUnreachableException.class, started.cause());
    assertTrue(
        started.cause().getMessage().contains("amqp://guest:**@127.0.0.1:5672//"),
        started.cause().getMessage());
    assertTrue(
        started.cause().getMessage().contains("Connection refused"), started.cause().getMessage());
    assertEquals(3, attempts.size());
    assertTrue(timers.due.isEmpty(), "no further attempt");
  }

  @Test
  void withoutRetryOnStartupTheFirstFailureIsFinal() {
    ConnectionLifecycle lc = lifecycle(false, 100);
    Future<Void> started = lc.start(this::connect);
    last()
        .fail(new java.io.IOException((String) null, new IllegalStateException("vhost not found")));
    assertTrue(started.failed());
    assertTrue(
        started.cause().getMessage().contains("vhost not found"),
        "never \"null\": " + started.cause().getMessage());
    assertEquals(1, attempts.size());
  }

  @Test
  void closingStopsReconnectsAndIgnoresLateAttempts() {
    ConnectionLifecycle lc = lifecycle(true, 100);
    Future<Void> started = lc.start(this::connect);
    Promise<Void> inFlight = last();
    Future<Void> waiting = lc.whenConnected();
    assertTrue(lc.closing());
    assertTrue(started.failed(), "start-up ends when closed first");
    assertTrue(waiting.failed());
    inFlight.complete(); // the attempt finishes after close: ignored
    assertFalse(lc.isConnected());
    assertEquals(ConnectionLifecycle.State.CLOSING, lc.state());
    lc.closed();
    assertEquals(ConnectionLifecycle.State.CLOSED, lc.state());
    assertTrue(timers.due.isEmpty());
  }

  @Test
  void closingDuringBackoffCancelsTheTimer() {
    ConnectionLifecycle lc = lifecycle(true, 100);
    lc.start(this::connect);
    last().complete();
    lc.lost(lc.generation(), "gone");
    assertFalse(timers.due.isEmpty());
    lc.closing();
    assertTrue(timers.due.isEmpty(), "no reconnect after close");
    assertEquals(1, attempts.size());
  }

  @Test
  void whenConnectedCompletesAtTheNextConnection() {
    ConnectionLifecycle lc = lifecycle(true, 100);
    lc.start(this::connect);
    Future<Void> w = lc.whenConnected();
    assertFalse(w.isComplete());
    last().complete();
    assertTrue(w.succeeded());
    assertTrue(lc.whenConnected().succeeded(), "at once when connected");
  }

  @Test
  void describeNeverSaysNull() {
    assertEquals(
        "IOException: boom",
        ConnectionLifecycle.describe(new java.io.IOException(null, new RuntimeException("boom"))));
    assertEquals("java.io.IOException", ConnectionLifecycle.describe(new java.io.IOException()));
    assertEquals("refused", ConnectionLifecycle.describe(new java.io.IOException("refused")));
  }
}

package io.celerity.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Fails any test during which Vert.x reported a blocked event-loop thread. Registered for every
 * test through JUnit's extension auto-detection.
 */
public class BlockedThreadGuard implements BeforeEachCallback, AfterEachCallback {

  /** The logger Vert.x reports blocked threads on. */
  public static final String CHECKER_LOGGER = "io.vertx.core.impl.BlockedThreadChecker";
  private static final List<String> WARNINGS = new ArrayList<>();

  static {
    Logger checker = (Logger) LoggerFactory.getLogger(CHECKER_LOGGER);
    AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        synchronized (WARNINGS) {
          WARNINGS.add(e.getThreadName() + ": " + e.getFormattedMessage());
        }
      }
    };
    appender.setContext(checker.getLoggerContext());
    appender.start();
    checker.addAppender(appender);
  }

  /** Vert.x options for tests: any event-loop task over 500 ms is reported (and fails the test). */
  public static Vertx strictVertx() {
    return Vertx.vertx(new VertxOptions().setMaxEventLoopExecuteTime(500).setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
      .setBlockedThreadCheckInterval(100).setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS));
  }

  /** Takes the warnings collected so far. */
  public static List<String> drain() {
    synchronized (WARNINGS) {
      List<String> out = new ArrayList<>(WARNINGS);
      WARNINGS.clear();
      return out;
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    drain();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    List<String> w = drain();
    if (!w.isEmpty()) {
      throw new AssertionError("Vert.x event loop blocked during " + context.getDisplayName() + ":\n" + String.join("\n", w));
    }
  }
}

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

  private static boolean warmedUp;

  /**
   * Starts and stops one in-JVM worker (memory broker) before the first strict Vert.x of a test
   * JVM: the first worker start-up loads Netty, Jackson, Vert.x Web and Micrometer classes on
   * event loops, hundreds of milliseconds on a cold JVM, which says nothing about our code.
   */
  private static synchronized void warmUp() {
    if (warmedUp) {
      return;
    }
    warmedUp = true;
    // Netty's adaptive allocator registers a JFR event type with its first chunk (class init, over
    // 500 ms on a loaded machine): done here, not on the first event loop that writes to a socket.
    new io.netty.buffer.AdaptiveByteBufAllocator().directBuffer(64).release();
    Vertx v = Vertx.vertx();
    io.celerity.WorkerVerticle worker = new io.celerity.WorkerVerticle();
    try {
      io.vertx.core.json.JsonObject conf = new io.vertx.core.json.JsonObject().put("broker", "memory://warm-up")
        .put("result_backend", "memory://").put("http_port", 0).put("hostname", "warm-up@localhost");
      String id = v.deployVerticle(worker, new io.vertx.core.DeploymentOptions().setConfig(conf))
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      worker.shutdown(false).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      v.undeploy(id).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LoggerFactory.getLogger(BlockedThreadGuard.class).warn("Warm-up worker failed: {}", e.toString());
    } finally {
      v.close().toCompletionStage().toCompletableFuture().join();
      drain();
    }
  }

  /** Vert.x options for tests: any event-loop task over 500 ms is reported (and fails the test). */
  public static Vertx strictVertx() {
    warmUp();
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

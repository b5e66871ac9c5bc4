package io.celerity.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.celerity.config.WorkerOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The worker's event loops run on Netty's epoll transport by default, NIO on request. */
class NativeTransportTest {

  /** The CPUs whose epoll library the jar bundles. */
  private static final Set<String> BUNDLED = Set.of("amd64", "x86_64", "aarch64");

  @Test
  void theWorkersVertxUsesEpollOnLinux() {
    String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    assumeTrue(os.contains("linux") && BUNDLED.contains(System.getProperty("os.arch")));
    Vertx vertx = Vertx.vertx(Main.vertxOptions(new WorkerOptions(new JsonObject())));
    try {
      // fails when the native jar is missing from the classpath or its library cannot load
      assertNull(vertx.unavailableNativeTransportCause());
      assertTrue(vertx.isNativeTransportEnabled());
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void nativeTransportFalseGivesNio() {
    Vertx vertx =
        Vertx.vertx(
            Main.vertxOptions(new WorkerOptions(new JsonObject().put("native_transport", false))));
    try {
      assertFalse(vertx.isNativeTransportEnabled());
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void theVertxLauncherPrefersEpollUnlessItsOptionsSayOtherwise() {
    CelerityVertxLauncher hooks = new CelerityVertxLauncher();
    assertTrue(hooks.afterVertxOptionsParsed(null).getBoolean("preferNativeTransport"));
    assertTrue(
        hooks
            .afterVertxOptionsParsed(new JsonObject().put("eventLoopPoolSize", 2))
            .getBoolean("preferNativeTransport"));
    assertFalse(
        hooks
            .afterVertxOptionsParsed(new JsonObject().put("preferNativeTransport", false))
            .getBoolean("preferNativeTransport"));
  }
}

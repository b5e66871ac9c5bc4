package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar runs its event loops on Netty's epoll library, and loading it prints no warning:
 * Java 24+ warns about native access unless the jar's manifest allows it.
 */
class JarOnEpollTest {

  private static final Path JAR =
      Path.of(System.getProperty("user.dir"), "..", "target", "celerity.jar");
  private static final Path JAVA_25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");

  @Test
  void theJarOnThisJava() throws Exception {
    startsOnEpollWithoutWarnings(ProcessHandle.current().info().command().orElse("java"));
  }

  @Test
  void theJarOnJava25() throws Exception {
    assumeTrue(Files.isExecutable(JAVA_25), "no Temurin 25 at " + JAVA_25);
    startsOnEpollWithoutWarnings(JAVA_25.toString());
  }

  private static void startsOnEpollWithoutWarnings(String java) throws Exception {
    assumeTrue(System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux"));
    assumeTrue(Files.exists(JAR), "the jar is packaged before the integration tests: " + JAR);
    try (WorkerProcess w =
        WorkerProcess.startJar(
            java,
            JAR,
            "-b",
            "memory://",
            "--result-backend",
            "memory://",
            "--http-port",
            "0",
            "-l",
            "INFO",
            "-n",
            "jar-epoll@localhost")) {
      w.waitForLog("jar-epoll@localhost ready.", 60_000);
      String maps = Files.readString(Path.of("/proc", String.valueOf(w.pid()), "maps"));
      assertTrue(maps.contains("netty_transport_native_epoll"), "epoll library not mapped");
      String log = w.log();
      assertFalse(log.contains("WARNING:"), log);
      assertFalse(log.contains("native_transport:"), log);
    }
  }
}

package io.celerity.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.celerity.support.ProjectFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM flags bin/celerity and the Docker image's entrypoint give a worker: the process pool's
 * parent gets the serial GC (unless the user picks a GC) and smaller C2 inlining, which the user's
 * JAVA_OPTS come after; the threads pool gets neither. Both scripts run here with a {@code java}
 * that prints its arguments.
 */
class LauncherFlagsTest {

  private static final String INLINING = "-XX:FreqInlineSize=100 -XX:InlineSmallCode=1000";

  @TempDir Path tmp;

  @Test
  void launcherGivesTheProcessPoolsParentItsFlags() throws Exception {
    String process = launcher(Map.of(), "worker", "-P", "process", "-c", "2");
    assertTrue(process.startsWith(INLINING + " -XX:+UseSerialGC -jar "), process);

    String chosen =
        launcher(
            Map.of("JAVA_OPTS", "-XX:+UseG1GC -XX:FreqInlineSize=325"), "worker", "--pool=process");
    assertFalse(chosen.contains("UseSerialGC"), "a GC in JAVA_OPTS replaces it: " + chosen);
    assertTrue(
        chosen.indexOf("-XX:FreqInlineSize=325") > chosen.indexOf("-XX:FreqInlineSize=100"),
        "JAVA_OPTS come after, so they win: " + chosen);

    String threads = launcher(Map.of(), "worker", "-c", "8");
    assertTrue(threads.startsWith("-jar "), threads);
  }

  @Test
  void imageEntrypointGivesTheProcessPoolsParentItsFlags() throws Exception {
    String process = entrypoint(Map.of(), "-P", "process", "-c", "2");
    assertTrue(process.startsWith("-XX:+UseSerialGC " + INLINING + " -XX:AOTCache="), process);
    assertTrue(process.endsWith("-jar /app/celerity.jar worker -P process -c 2"), process);

    String env = entrypoint(Map.of("CELERITY_POOL", "process", "JAVA_OPTS", "-XX:+UseG1GC"));
    assertTrue(env.startsWith(INLINING + " -XX:AOTCache="), env);
    assertTrue(env.contains("-XX:+UseG1GC -jar"), env);

    String threads = entrypoint(Map.of(), "-c", "8");
    assertTrue(threads.startsWith("-XX:AOTCache="), threads);
  }

  private String launcher(Map<String, String> env, String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(List.of("bash", ProjectFiles.path("bin/celerity").toString()));
    cmd.addAll(List.of(args));
    Map<String, String> vars = new java.util.HashMap<>(env);
    vars.put("CELERITY_JAVA", fakeJava().toString());
    vars.put("CELERITY_CDS", "off");
    vars.put("CELERITY_JAR", ProjectFiles.path("pom.xml").toString()); // any existing file
    return run(cmd, vars).replace(ProjectFiles.path("pom.xml").toString(), "JAR");
  }

  /** The ENTRYPOINT's shell program, run by sh with the fake java first on PATH. */
  private String entrypoint(Map<String, String> env, String... args) throws Exception {
    String dockerfile = Files.readString(ProjectFiles.path("Dockerfile"));
    String line =
        dockerfile.lines().filter(l -> l.startsWith("ENTRYPOINT ")).findFirst().orElseThrow();
    List<String> exec =
        new ObjectMapper().readerForListOf(String.class).readValue(line.substring(11));
    assertEquals(List.of("sh", "-c"), exec.subList(0, 2));
    List<String> cmd = new ArrayList<>(exec);
    cmd.addAll(List.of(args));
    Map<String, String> vars = new java.util.HashMap<>(env);
    vars.put("PATH", fakeJava().getParent() + ":" + System.getenv("PATH"));
    return run(cmd, vars);
  }

  private Path fakeJava() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("bin"));
    Path java = dir.resolve("java");
    if (!Files.exists(java)) {
      Files.writeString(java, "#!/bin/sh\necho \"$@\"\n");
      Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return java;
  }

  private String run(List<String> cmd, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    for (String k :
        List.of("JAVA_OPTS", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "CELERITY_POOL")) {
      pb.environment().remove(k);
    }
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "finished");
    assertEquals(0, p.exitValue(), out);
    return out;
  }
}

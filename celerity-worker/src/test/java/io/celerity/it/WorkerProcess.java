package io.celerity.it;

import io.celerity.support.Polling;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The worker as its own JVM, started through the CLI main class exactly as {@code celerity worker}
 * runs it.
 */
public final class WorkerProcess implements AutoCloseable {

  private final Process process;
  private final File log;

  private WorkerProcess(Process process, File log) {
    this.process = process;
    this.log = log;
  }

  public static WorkerProcess start(String... workerArgs) throws IOException {
    return start(Map.of(), workerArgs);
  }

  /** With these {@code CELERITY_*} variables (the test JVM's own are never inherited). */
  public static WorkerProcess start(Map<String, String> env, String... workerArgs)
      throws IOException {
    return start(
        List.of(
            ProcessHandle.current().info().command().orElse("java"),
            "-cp",
            System.getProperty("java.class.path"),
            "io.celerity.cli.Main"),
        env,
        workerArgs);
  }

  /** The packaged jar ({@code java -jar celerity.jar worker ...}) on the given {@code java}. */
  public static WorkerProcess startJar(String java, java.nio.file.Path jar, String... workerArgs)
      throws IOException {
    return start(List.of(java, "-jar", jar.toString()), Map.of(), workerArgs);
  }

  private static WorkerProcess start(
      List<String> launcher, Map<String, String> env, String... workerArgs) throws IOException {
    List<String> cmd = new ArrayList<>(launcher);
    cmd.add("worker");
    cmd.addAll(List.of(workerArgs));
    File log = File.createTempFile("celerity-worker", ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log);
    pb.environment().keySet().removeIf(k -> k.startsWith("CELERITY_"));
    pb.environment().putAll(env);
    return new WorkerProcess(pb.start(), log);
  }

  public String log() throws IOException {
    return Files.readString(log.toPath());
  }

  public void waitForLog(String text, long timeoutMs) throws Exception {
    Polling.until(() -> log().contains(text) || !process.isAlive(), timeoutMs);
    if (!log().contains(text)) {
      throw new AssertionError("worker exited before logging '" + text + "':\n" + log());
    }
  }

  /** Sends SIGTERM, as Kubernetes and systemd do. */
  public void terminate() {
    process.destroy();
  }

  public int waitForExit(long timeoutMs) throws InterruptedException {
    if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
      throw new AssertionError("worker did not exit within " + timeoutMs + " ms");
    }
    return process.exitValue();
  }

  public long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    process.destroyForcibly();
    log.delete();
  }
}

package io.celerity.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.celerity.transport.memory.MemoryBroker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** {@code celerity train}, the image's training run for its AOT cache. */
class TrainCommandTest {

  @Test
  void drainsEveryTaskWithEachPoolOnTheInJvmBrokerAndExitsZero() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Level level = root.getLevel();
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int code;
    try {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      // the default pools: threads, then the process pool with Java children
      code = Main.commandLine().execute("train", "--tasks", "500", "-c", "2", "--timeout", "120");
    } finally {
      System.setErr(err);
      root.setLevel(level);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, out);
    assertTrue(out.contains("celerity train: 500 tasks in") && out.contains("(threads)"), out);
    assertTrue(out.indexOf("(threads)") < out.indexOf("(process)"), out);
    assertEquals(0, MemoryBroker.named("celerity-train").size(Train.QUEUE), "nothing left queued");
  }

  @Test
  void refusesNoTasks() {
    assertEquals(Call.USAGE, Main.commandLine().execute("train", "--tasks", "0"));
  }

  @Test
  void refusesAPoolItCannotTrain() {
    assertEquals(Call.USAGE, Main.commandLine().execute("train", "-P", "threads,solo"));
  }
}

package io.celerity.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.config.Setting;
import io.celerity.config.SettingException;
import io.celerity.config.Settings;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The worker's flags come from the settings table and give the same values worker.json would. */
class SettingFlagsTest {

  private static JsonObject flags(String... args) {
    CommandLine.ParseResult parsed = Main.commandLine().parseArgs(args);
    return SettingFlags.values(parsed.subcommand());
  }

  @Test
  void flagsBecomeTypedSettings() {
    JsonObject f =
        flags(
            "worker",
            "-b",
            "amqp://h//",
            "-c",
            "3",
            "-Q",
            "a,b",
            "-Q",
            "c",
            "-E",
            "--without-examples",
            "--time-limit",
            "2.5",
            "--autoscale",
            "4,2",
            "--child",
            "python3 -m celerity_child proj",
            "-A",
            "x.Tasks",
            "--disable-prefetch",
            "-n",
            "w1@%h",
            "--max-memory-per-child",
            "1000");
    assertEquals(
        new JsonObject()
            .put("broker", "amqp://h//")
            .put("queues", new JsonArray().add("a").add("b").add("c"))
            .put("concurrency", 3)
            .put("hostname", "w1@%h")
            .put("time_limit", 2.5)
            .put("task_events", true)
            .put("app", new JsonArray().add("x.Tasks"))
            .put("load_examples", false)
            .put(
                "child_command",
                new JsonArray().add("python3").add("-m").add("celerity_child").add("proj"))
            .put("max_memory_per_child", 1000L)
            .put("autoscale", "4,2")
            .put("disable_prefetch", true),
        f);
  }

  @Test
  void noFlagsNoSettings() {
    assertEquals(new JsonObject(), flags("worker"));
  }

  @Test
  void aBadValueNamesTheFlagAndTheSetting() {
    SettingException e = assertThrows(SettingException.class, () -> flags("worker", "-c", "many"));
    assertEquals("--concurrency many: concurrency must be a whole number", e.getMessage());
    assertEquals(
        "--pool thread: pool must be one of threads, solo, virtual, process; did you mean 'threads'?",
        assertThrows(SettingException.class, () -> flags("worker", "-P", "thread")).getMessage());
  }

  @Test
  void helpListsEveryFlagWithItsSettingAndDefault() {
    StringWriter out = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.getSubcommands().get("worker").usage(new PrintWriter(out));
    String help = out.toString();
    for (Setting<?> s : Settings.all()) {
      for (String flag : s.flags()) {
        assertTrue(help.contains(flag), flag + " missing from --help");
      }
    }
    assertTrue(help.contains("Default: memory://"), help);
    assertTrue(help.contains("CELERITY_CONCURRENCY"), help);
    assertTrue(
        help.contains("w1@%h") || help.contains("%h"),
        "a % in a doc line survives picocli's formatting");
  }
}

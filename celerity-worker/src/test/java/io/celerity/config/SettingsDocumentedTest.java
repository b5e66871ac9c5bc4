package io.celerity.config;

import org.junit.jupiter.api.Test;

import io.celerity.support.ProjectFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every setting the worker reads is a row of docs/configuration.md, and every row is a setting. */
class SettingsDocumentedTest {

  @Test
  void everySettingHasARowInTheConfigurationTable() throws Exception {
    String doc = Files.readString(ProjectFiles.path("docs/configuration.md"));
    Set<String> documented = new TreeSet<>();
    Matcher m = Pattern.compile("^\\| `([a-z_]+)` \\|", Pattern.MULTILINE).matcher(doc);
    while (m.find()) {
      documented.add(m.group(1));
    }
    Set<String> settings = new TreeSet<>(new WorkerOptions().toJson().fieldNames());
    settings.add("http_token"); // read, but never echoed back by toJson (inspect conf must not show it)
    assertEquals(settings, documented);
  }
}

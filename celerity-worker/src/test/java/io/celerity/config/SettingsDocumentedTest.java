package io.celerity.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.ProjectFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The settings table of docs/configuration.md is the one generated from {@link Settings}, so every
 * setting the worker reads is documented, with its real default, flags and Celery name.
 */
class SettingsDocumentedTest {

  static final Path DOC = ProjectFiles.path("docs/configuration.md");
  static final String BEGIN =
      "<!-- settings table: generated from io.celerity.config.Settings, do not edit by hand -->\n";
  static final String END = "<!-- end of settings table -->";

  /** {@code -Dcelerity.docs.write=true} rewrites the table instead of comparing it. */
  static final String WRITE = "celerity.docs.write";

  @Test
  void theConfigurationTableIsTheGeneratedOne() throws Exception {
    String doc = Files.readString(DOC);
    int from = doc.indexOf(BEGIN);
    int to = doc.indexOf(END);
    assertTrue(from >= 0 && to > from, "docs/configuration.md lacks the settings table markers");
    String generated = Settings.markdownTable();
    if (Boolean.getBoolean(WRITE)) {
      Files.writeString(
          DOC, doc.substring(0, from + BEGIN.length()) + generated + doc.substring(to));
      return;
    }
    assertEquals(
        generated,
        doc.substring(from + BEGIN.length(), to),
        "docs/configuration.md's settings table is out of date; regenerate it: "
            + "mvn -B -ntp -o test -Dtest=SettingsDocumentedTest -D"
            + WRITE
            + "=true");
  }

  @Test
  void everySettingHasADocumentationLine() {
    for (Setting<?> s : Settings.all()) {
      assertFalse(s.doc().isBlank(), s.key() + " has no documentation line");
      assertFalse(
          s.doc().contains("|") || s.doc().contains("\n"),
          s.key() + "'s line would break the table");
    }
  }
}

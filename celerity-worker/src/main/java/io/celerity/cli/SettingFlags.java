package io.celerity.cli;

import io.celerity.config.Setting;
import io.celerity.config.SettingType;
import io.celerity.config.Settings;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The worker's setting flags, made from the {@link Settings} table rather than declared one by one:
 * each flag becomes a picocli option, and what the user gave becomes the flags' layer of the
 * configuration, read with the setting's own type (so a bad value names the flag and the setting).
 */
final class SettingFlags {

  private SettingFlags() {}

  /** Adds an option for every setting that has flags. */
  static void addTo(CommandSpec command) {
    for (Setting<?> s : Settings.all()) {
      if (s.flags().isEmpty()) {
        continue;
      }
      OptionSpec.Builder o =
          OptionSpec.builder(s.flags().toArray(String[]::new))
              .description(Settings.help(s).replace("%", "%%")); // picocli formats descriptions
      if (s.switchValue() != null) {
        o.arity("0").type(boolean.class);
      } else if (isList(s)) {
        o.type(String[].class)
            .paramLabel(s.key().toUpperCase(Locale.ROOT)); // repeatable, each may be a,b
      } else {
        o.type(String.class).paramLabel(s.key().toUpperCase(Locale.ROOT));
      }
      command.addOption(o.build());
    }
  }

  /** The settings given as flags, as configuration JSON. */
  static JsonObject values(ParseResult parsed) {
    JsonObject out = new JsonObject();
    for (Setting<?> s : Settings.all()) {
      OptionSpec o = s.flags().isEmpty() ? null : parsed.matchedOption(s.flags().get(0));
      if (o == null) {
        continue;
      }
      if (s.switchValue() != null) {
        out.put(s.key(), s.switchValue());
        continue;
      }
      List<String> given = o.stringValues();
      String text = isList(s) ? String.join(",", given) : given.get(given.size() - 1);
      out.put(s.key(), Settings.parseText(s, text, o.longestName() + " " + text));
    }
    return out;
  }

  private static boolean isList(Setting<?> s) {
    return s.type() == SettingType.LIST;
  }
}

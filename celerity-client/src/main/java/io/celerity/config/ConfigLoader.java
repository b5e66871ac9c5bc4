package io.celerity.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds the worker's configuration from its sources, later ones winning: built-in defaults, {@code
 * conf/worker.json} (or {@code --config FILE}), {@code CELERITY_*} environment variables, then
 * command-line flags. A key or variable that names no setting, or a value of the wrong type, is
 * refused with a {@link SettingException} naming it and the setting probably meant.
 */
public final class ConfigLoader {

  public static final String ENV_PREFIX = "CELERITY_";
  public static final Path DEFAULT_CONFIG_FILE = Path.of("conf", "worker.json");

  /**
   * {@code CELERITY_*} variables that are not settings: the launcher's, and the test and compose
   * tooling's.
   */
  static final List<String> NOT_SETTINGS =
      List.of(
          "CELERITY_HOME",
          "CELERITY_JAR",
          "CELERITY_TEST_",
          "CELERITY_FIXTURE_",
          "CELERITY_COMPOSE_");

  private ConfigLoader() {}

  public static JsonObject load(
      Path configFile, boolean fileRequired, Map<String, String> env, JsonObject flags)
      throws IOException {
    JsonObject merged = new WorkerOptions().toJson();
    merged.remove(Settings.HOSTNAME.key());
    if (configFile != null && Files.exists(configFile)) {
      merged.mergeIn(fromFile(configFile));
    } else if (fileRequired) {
      throw new IOException("config file not found: " + configFile);
    }
    merged.mergeIn(fromEnv(env));
    merged.mergeIn(flags);
    return merged;
  }

  private static JsonObject fromFile(Path file) throws IOException {
    JsonObject json;
    try {
      json = new JsonObject(Files.readString(file));
    } catch (DecodeException | ClassCastException e) {
      throw new SettingException(file + " is not a JSON object: " + e.getMessage());
    }
    Settings.read(json, file.toString()); // refuses unknown keys and wrong types, naming the file
    return json;
  }

  /**
   * {@code CELERITY_RESULT_BACKEND=redis://...} sets {@code result_backend}, typed as the setting
   * is.
   */
  static JsonObject fromEnv(Map<String, String> env) {
    JsonObject out = new JsonObject();
    for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
      String name = e.getKey();
      if (!name.startsWith(ENV_PREFIX) || NOT_SETTINGS.stream().anyMatch(name::startsWith)) {
        continue;
      }
      Setting<?> s = Settings.byKey(name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT));
      if (s == null || !name.equals(s.env())) {
        Setting<?> near = Settings.nearest(name.substring(ENV_PREFIX.length()));
        throw new SettingException(
            "unknown environment variable "
                + name
                + (near == null
                    ? " (CELERITY_* variables are settings, listed in docs/configuration.md)"
                    : "; did you mean " + near.env() + "?"));
      }
      out.put(s.key(), Settings.parseText(s, e.getValue(), name + "=" + e.getValue()));
    }
    return out;
  }
}

package io.celerity.config;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the worker's configuration from its sources, later ones winning: built-in defaults,
 * {@code conf/worker.json} (or {@code --config FILE}), {@code CELERITY_*} environment variables,
 * then command-line flags.
 */
public final class ConfigLoader {

  public static final String ENV_PREFIX = "CELERITY_";
  public static final Path DEFAULT_CONFIG_FILE = Path.of("conf", "worker.json");

  private ConfigLoader() {
  }

  public static JsonObject load(Path configFile, boolean fileRequired, Map<String, String> env, JsonObject flags) throws IOException {
    JsonObject merged = new WorkerOptions().toJson();
    merged.remove("hostname");
    if (configFile != null && Files.exists(configFile)) {
      merged.mergeIn(new JsonObject(Files.readString(configFile)));
    } else if (fileRequired) {
      throw new IOException("config file not found: " + configFile);
    }
    merged.mergeIn(fromEnv(env, merged));
    merged.mergeIn(flags);
    return merged;
  }

  /** {@code CELERITY_RESULT_BACKEND=redis://...} sets {@code result_backend}; values typed after the known keys. */
  static JsonObject fromEnv(Map<String, String> env, JsonObject known) {
    JsonObject out = new JsonObject();
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (!e.getKey().startsWith(ENV_PREFIX) || e.getKey().equals("CELERITY_HOME")) {
        continue;
      }
      String key = e.getKey().substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT);
      out.put(key, NUMERIC_WITHOUT_DEFAULT.contains(key) ? number(e.getValue()) : typed(e.getValue(), known.getValue(key)));
    }
    return out;
  }

  private static Object typed(String raw, Object like) {
    if (like instanceof Boolean) {
      return raw.equalsIgnoreCase("true") || raw.equals("1") || raw.equalsIgnoreCase("yes");
    }
    if (like instanceof Integer || like instanceof Long) {
      return Long.parseLong(raw.trim());
    }
    if (like instanceof Double) {
      return Double.parseDouble(raw.trim());
    }
    return raw;
  }

  /** Settings that are numbers but have no default to take the type from. */
  private static final java.util.Set<String> NUMERIC_WITHOUT_DEFAULT =
    java.util.Set.of("time_limit", "soft_time_limit", "queue_max_priority", "eta_task_limit", "result_backend_max_retries",
      "max_abandoned_threads");

  private static Object number(String raw) {
    String s = raw.trim();
    return s.contains(".") ? (Object) Double.parseDouble(s) : (Object) Long.parseLong(s);
  }
}

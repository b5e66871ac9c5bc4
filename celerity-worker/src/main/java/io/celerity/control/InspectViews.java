package io.celerity.control;

import io.celerity.config.Urls;
import io.celerity.config.WorkerOptions;
import io.celerity.protocol.IsoTime;
import io.celerity.task.TaskDefinition;
import io.celerity.task.TaskOptions;
import io.celerity.task.TaskRegistry;
import io.celerity.types.Request;
import io.celerity.types.RequestInfo;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The values of {@code inspect registered} and {@code inspect conf} in Celery's shapes
 * (celery/worker/control.py), built from our registry and settings.
 */
public final class InspectViews {

  /** Celery's {@code DEFAULT_TASK_INFO_ITEMS}. */
  public static final List<String> DEFAULT_TASK_INFO_ITEMS =
      List.of("exchange", "routing_key", "rate_limit");

  /** Celery's {@code HIDDEN_SETTINGS}: values of matching keys are masked. */
  private static final Pattern HIDDEN_SETTINGS =
      Pattern.compile(
          "API|TOKEN|KEY|SECRET|PASS|PROFANITIES_LIST|SIGNATURE|DATABASE",
          Pattern.CASE_INSENSITIVE);

  private static final String MASK = "********";

  /** Our setting names -> Celery's, for every setting that has a Celery equivalent. */
  static final Map<String, String> CELERY_NAMES = io.celerity.config.Settings.celeryNames();

  private InspectViews() {}

  /**
   * {@code registered}: task names (built-ins only with {@code builtins}), each with the requested
   * attributes that are not None as {@code "name [attr=value ...]"}.
   */
  /** {@code inspect scheduled}: each held request with its ETA, as Celery shows them. */
  static JsonArray scheduled(List<Request> held) {
    JsonArray out = new JsonArray();
    for (Request r : held) {
      out.add(
          new JsonObject()
              .put("eta", IsoTime.utc(r.message().eta()))
              .put("priority", 6)
              .put("request", RequestInfo.of(r, null, false, null)));
    }
    return out;
  }

  public static List<String> registered(
      TaskRegistry registry, WorkerOptions worker, JsonObject arguments) {
    List<String> items = new ArrayList<>();
    Object requested = arguments.getValue("taskinfoitems");
    if (requested instanceof JsonArray a) {
      a.forEach(o -> items.add(String.valueOf(o)));
    } else if (requested instanceof List<?> l) {
      l.forEach(o -> items.add(String.valueOf(o)));
    } else if (requested instanceof String s && !s.isBlank()) {
      items.add(s);
    }
    if (items.isEmpty()) {
      items.addAll(DEFAULT_TASK_INFO_ITEMS);
    }
    boolean builtins = Boolean.TRUE.equals(arguments.getValue("builtins"));
    List<String> out = new ArrayList<>();
    for (String name : registry.names()) {
      if (!builtins && name.startsWith("celery.")) {
        continue;
      }
      TaskDefinition def = registry.get(name);
      List<String> fields = new ArrayList<>();
      for (String item : items) {
        String value =
            attribute(name, def == null ? TaskOptions.DEFAULTS : def.options(), worker, item);
        if (value != null) {
          fields.add(item + "=" + value);
        }
      }
      out.add(fields.isEmpty() ? name : name + " [" + String.join(" ", fields) + "]");
    }
    return out;
  }

  /** A task attribute as Python's {@code str()} shows it, or null where Celery's would be None. */
  static String attribute(String name, TaskOptions o, WorkerOptions w, String item) {
    return switch (item) {
      case "name" -> name;
      case "rate_limit" -> o.rateLimit();
      case "acks_late" -> py(o.acksLate() != null ? o.acksLate() : w.isAcksLate());
      case "track_started" -> py(o.trackStarted() != null ? o.trackStarted() : w.isTrackStarted());
      case "ignore_result" -> py(Boolean.TRUE.equals(o.ignoreResult()));
      case "store_errors_even_if_ignored" -> py(Boolean.TRUE.equals(o.storeErrorsEvenIfIgnored()));
      case "acks_on_failure_or_timeout" ->
          py(
              o.acksOnFailureOrTimeout() != null
                  ? o.acksOnFailureOrTimeout()
                  : w.isAcksOnFailureOrTimeout());
      case "reject_on_worker_lost" ->
          o.rejectOnWorkerLost() == null ? null : py(o.rejectOnWorkerLost());
      case "time_limit" -> number(o.timeLimit());
      case "soft_time_limit" -> number(o.softTimeLimit());
      case "max_retries" ->
          o.maxRetries() == TaskOptions.UNLIMITED_RETRIES ? null : String.valueOf(o.maxRetries());
      case "default_retry_delay" -> number((Double) o.defaultRetryDelay());
      case "serializer" -> "json";
      case "typing" -> "True";
      default ->
          null; // exchange, routing_key, queue, priority, expires...: None unless set, and we never
        // set them
    };
  }

  private static String py(boolean b) {
    return b ? "True" : "False";
  }

  private static String number(Double d) {
    if (d == null) {
      return null;
    }
    return d == Math.rint(d) && !Double.isInfinite(d)
        ? String.valueOf(d.longValue())
        : String.valueOf(d);
  }

  /**
   * {@code conf}: our settings under Celery's names where Celery has one (ours otherwise), only
   * those that differ from the defaults unless {@code with_defaults}; secrets masked as Celery
   * masks them.
   */
  public static JsonObject conf(WorkerOptions options, JsonObject arguments) {
    return conf(options, arguments, null);
  }

  /**
   * @param app the application's own non-default settings as Celery's {@code conf.table()} lists
   *     them (reported by Python children, already censored), or null
   */
  public static JsonObject conf(WorkerOptions options, JsonObject arguments, JsonObject app) {
    boolean withDefaults = truthy(arguments.getValue("with_defaults"));
    JsonObject mine = options.toJson();
    JsonObject defaults = new WorkerOptions().toJson();
    Map<String, Object> out = new LinkedHashMap<>();
    if (app != null) {
      app.forEach(e -> out.put(e.getKey(), censor(e.getKey(), e.getValue())));
    }
    for (String key : mine.fieldNames()) {
      Object value = mine.getValue(key);
      if (!withDefaults
          && java.util.Objects.equals(value, defaults.getValue(key))
          && !key.equals("broker")
          && !key.equals("result_backend")) {
        continue;
      }
      String name = CELERY_NAMES.getOrDefault(key, key);
      // transport options hold credentials under any name (sentinel_kwargs, sasl, URLs): text
      // values masked
      out.put(name, key.endsWith("transport_options") ? maskValues(value) : censor(name, value));
    }
    out.put("broker_url", Urls.redact(options.getBroker()));
    out.put(
        "result_backend",
        options.getResultBackend() == null ? null : Urls.redact(options.getResultBackend()));
    return new JsonObject(out);
  }

  private static boolean truthy(Object v) {
    if (v instanceof Boolean b) {
      return b;
    }
    return v != null
        && List.of("1", "true", "yes", "on", "y", "t").contains(String.valueOf(v).toLowerCase());
  }

  private static Object maskValues(Object value) {
    if (value instanceof JsonObject nested) {
      JsonObject c = new JsonObject();
      nested.forEach(e -> c.put(e.getKey(), maskValues(e.getValue())));
      return c;
    }
    return value instanceof Number || value instanceof Boolean || value == null ? value : MASK;
  }

  private static Object censor(String key, Object value) {
    if (value instanceof JsonObject nested) {
      JsonObject c = new JsonObject();
      nested.forEach(e -> c.put(e.getKey(), censor(e.getKey(), e.getValue())));
      return c;
    }
    return HIDDEN_SETTINGS.matcher(key).find() ? MASK : value;
  }
}

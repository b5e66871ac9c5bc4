package io.celerity.config;

import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * One worker setting, declared once in {@link Settings}: key (of worker.json, a deployment's config
 * and {@code inspect conf}), type, default, command-line flags, Celery equivalent and the line that
 * documents it. Its environment variable is {@code CELERITY_<KEY>}. Reading worker.json, the
 * environment and the flags, {@link WorkerOptions#toJson()}, the CLI's options and the table in
 * docs/configuration.md are all derived from these declarations.
 *
 * <p>Declared with the fluent methods below, which only {@link Settings} calls while it builds the
 * table.
 */
public final class Setting<T> {

  private final String key;
  private final SettingType<T> type;
  private final T defaultValue;
  private String defaultDoc;
  private List<String> flags = List.of();
  private Object switchValue;
  private String celery;
  private String celeryDoc;
  private String doc = "";
  private boolean shown = true;
  private List<String> choices;
  private Predicate<T> check;
  private String checkMessage;
  private UnaryOperator<T> normalise = UnaryOperator.identity();

  Setting(String key, SettingType<T> type, T defaultValue) {
    this.key = key;
    this.type = type;
    this.defaultValue = defaultValue;
  }

  // ---- declaration (Settings only)

  /** Flags taking the value, e.g. {@code "-c", "--concurrency"}. */
  Setting<T> flag(String... names) {
    flags = List.of(names);
    return this;
  }

  /**
   * Flags taking no value that set {@code value}: {@code -E} sets true, {@code --without-examples}
   * false.
   */
  Setting<T> switchFlag(T value, String... names) {
    switchValue = value;
    return flag(names);
  }

  /** Celery's name for it: {@code inspect conf} reports the setting under this name. */
  Setting<T> celery(String name) {
    celery = name;
    return this;
  }

  /** The "Celery" cell of the docs table when it says more than {@link #celery(String)}. */
  Setting<T> celeryDoc(String markdown) {
    celeryDoc = markdown;
    return this;
  }

  /** The "default" cell when the value alone would mislead ("number of CPUs"). */
  Setting<T> defaultDoc(String markdown) {
    defaultDoc = markdown;
    return this;
  }

  /** The "meaning" cell of the docs table, also the flag's help. */
  Setting<T> doc(String markdown) {
    doc = markdown;
    return this;
  }

  /**
   * Read but never echoed by {@link WorkerOptions#toJson()} (so {@code inspect conf} never shows
   * it).
   */
  Setting<T> hidden() {
    shown = false;
    return this;
  }

  /** The only values allowed (compared ignoring case); a near miss is suggested. */
  Setting<T> choices(String... values) {
    choices = List.of(values);
    return this;
  }

  /** A rule every value must follow; the message completes "{@code <key> must ...}". */
  Setting<T> check(Predicate<T> rule, String mustMessage) {
    check = rule;
    checkMessage = mustMessage;
    return this;
  }

  /** Applied to every value read, e.g. a non-positive time limit means none. */
  Setting<T> normalise(UnaryOperator<T> f) {
    normalise = f;
    return this;
  }

  // ---- use

  public String key() {
    return key;
  }

  public SettingType<T> type() {
    return type;
  }

  public T defaultValue() {
    return defaultValue;
  }

  /** {@code CELERITY_<KEY>}. */
  public String env() {
    return ConfigLoader.ENV_PREFIX + key.toUpperCase(Locale.ROOT);
  }

  public List<String> flags() {
    return flags;
  }

  /** The value a switch flag sets, or null when the flags take a value. */
  public Object switchValue() {
    return switchValue;
  }

  /** Celery's name for this setting, or null where Celery has none. */
  public String celery() {
    return celery;
  }

  String celeryDoc() {
    return celeryDoc != null ? celeryDoc : celery != null ? "`" + celery + "`" : "—";
  }

  String defaultDoc() {
    return defaultDoc;
  }

  public String doc() {
    return doc;
  }

  public boolean shown() {
    return shown;
  }

  List<String> choices() {
    return choices;
  }

  /** Normalises a value and checks it, or throws why not ("must be at least 1"). */
  @SuppressWarnings("unchecked")
  T accept(T value) {
    T v = normalise.apply(value);
    if (v != null && choices != null) {
      String given = v.toString();
      // the choice as declared: "THREADS" is the pool "threads"
      v =
          (T)
              choices.stream()
                  .filter(c -> c.equalsIgnoreCase(given))
                  .findFirst()
                  .orElseThrow(
                      () ->
                          new SettingType.Mismatch("must be one of " + String.join(", ", choices)));
    }
    if (v != null && check != null && !check.test(v)) {
      throw new SettingType.Mismatch("must " + checkMessage);
    }
    return v;
  }

  @Override
  public String toString() {
    return key;
  }
}

package io.celerity.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Worker configuration. Every key is documented in docs/configuration.md with the Celery setting it
 * mirrors; the JSON form is what {@code conf/worker.json}, {@code CELERITY_*} variables and CLI flags
 * fill in.
 */
public class WorkerOptions {

  public static final String DEFAULT_BROKER = "memory://";
  public static final String DEFAULT_RESULT_BACKEND = "memory://";
  public static final List<String> DEFAULT_QUEUES = List.of("celery");
  public static final String DEFAULT_POOL = "threads";
  public static final int DEFAULT_PREFETCH_MULTIPLIER = 4;
  public static final String DEFAULT_LOGLEVEL = "INFO";
  public static final long DEFAULT_RESULT_EXPIRES = 86400;
  public static final String DEFAULT_HTTP_HOST = "127.0.0.1";
  public static final int DEFAULT_HTTP_PORT = 8080;
  public static final double DEFAULT_SHUTDOWN_TIMEOUT = 60;
  public static final double DEFAULT_HEARTBEAT_INTERVAL = 2.0;
  public static final long DEFAULT_RECONNECT_MAX_DELAY_MS = 10_000;
  /** {@code -P process}: children run the tasks; no child command means Java children. */
  public static final List<String> POOLS = List.of("threads", "solo", "virtual", "process");
  public static final int DEFAULT_MAX_TASKS_PER_CHILD = 0;
  public static final long DEFAULT_MAX_MEMORY_PER_CHILD = 0;
  public static final double DEFAULT_AUTOSCALE_KEEPALIVE = 30.0;
  public static final double DEFAULT_CHILD_KILL_GRACE = 2.0;
  public static final double DEFAULT_CHILD_START_TIMEOUT = 60.0;
  public static final long DEFAULT_MAX_DECOMPRESSED_BODY = 64L * 1024 * 1024;
  public static final double DEFAULT_UNSETTLED_DEADLINE = 300.0;
  public static final List<String> DEFAULT_CHILD_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
    "-Xshare:auto");

  private String broker = DEFAULT_BROKER;
  private String resultBackend = DEFAULT_RESULT_BACKEND;
  private List<String> queues = new ArrayList<>(DEFAULT_QUEUES);
  private int concurrency = Runtime.getRuntime().availableProcessors();
  private String pool = DEFAULT_POOL;
  private String hostname;
  private String nodename;
  private int prefetchMultiplier = DEFAULT_PREFETCH_MULTIPLIER;
  private String loglevel = DEFAULT_LOGLEVEL;
  private Double timeLimit;
  private Double softTimeLimit;
  private boolean taskEvents;
  private boolean acksLate;
  private boolean trackStarted;
  private boolean acksOnFailureOrTimeout = true;
  private boolean rejectOnWorkerLost;
  private Integer etaTaskLimit;
  private boolean disablePrefetch;
  private String statedb;
  private boolean resultExtended;
  private String taskDefaultQueue = "celery";
  private long resultExpires = DEFAULT_RESULT_EXPIRES;
  private Integer queueMaxPriority;
  private List<String> apps = new ArrayList<>();
  private boolean loadExamples = true;
  private String httpHost = DEFAULT_HTTP_HOST;
  private int httpPort = DEFAULT_HTTP_PORT;
  private String httpToken;
  private double shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
  private double heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL;
  private long reconnectMaxDelayMs = DEFAULT_RECONNECT_MAX_DELAY_MS;
  private boolean brokerConnectionRetryOnStartup = io.celerity.transport.TransportOptions.DEFAULT_RETRY_ON_STARTUP;
  private int brokerConnectionMaxRetries = io.celerity.transport.TransportOptions.DEFAULT_MAX_RETRIES;
  private int eventLoops = Runtime.getRuntime().availableProcessors();
  private JsonObject brokerTransportOptions = new JsonObject();
  private List<String> childCommand = new ArrayList<>();
  private List<String> childJvmOptions = new ArrayList<>(DEFAULT_CHILD_JVM_OPTIONS);
  private int maxTasksPerChild = DEFAULT_MAX_TASKS_PER_CHILD;
  private long maxMemoryPerChild = DEFAULT_MAX_MEMORY_PER_CHILD;
  private int[] autoscale;
  private double autoscaleKeepalive = DEFAULT_AUTOSCALE_KEEPALIVE;
  private double childKillGrace = DEFAULT_CHILD_KILL_GRACE;
  private double childStartTimeout = DEFAULT_CHILD_START_TIMEOUT;
  private JsonObject resultBackendTransportOptions = new JsonObject();
  private boolean resultBackendAlwaysRetry;
  private Long resultBackendMaxRetries;
  private long resultBackendBaseSleepBetweenRetriesMs = 10;
  private long resultBackendMaxSleepBetweenRetriesMs = 10_000;
  private Integer maxAbandonedThreads;
  private long maxDecompressedBody = DEFAULT_MAX_DECOMPRESSED_BODY;
  private double unsettledDeadline = DEFAULT_UNSETTLED_DEADLINE;
  // --- issue 19 settings ---
  public static final int DEFAULT_ASYNC_CONCURRENCY = 1000;
  public static final int DEFAULT_CHILD_ASYNC_CONCURRENCY = 100;
  public static final double DEFAULT_ASYNC_BLOCKED_THRESHOLD = 1.0;
  private int asyncConcurrency = DEFAULT_ASYNC_CONCURRENCY;
  private int childAsyncConcurrency = DEFAULT_CHILD_ASYNC_CONCURRENCY;
  private double asyncBlockedThreshold = DEFAULT_ASYNC_BLOCKED_THRESHOLD;

  /** {@code async_concurrency}: async Java tasks (returning a future) in flight at once. */
  public int getAsyncConcurrency() {
    return asyncConcurrency;
  }

  /** {@code child_async_concurrency}: Python {@code async def} tasks in flight at once per child of {@code -P process}. */
  public int getChildAsyncConcurrency() {
    return childAsyncConcurrency;
  }

  /** {@code async_blocked_threshold}: seconds an event loop running async tasks may go unanswered before it is reported. */
  public double getAsyncBlockedThreshold() {
    return asyncBlockedThreshold;
  }

  /**
   * Messages prefetched beyond {@link #getPrefetchCount()} when async tasks are registered: enough to
   * fill the async slots (the Java ones, or the children's coroutines), which are not pool slots.
   */
  public int getAsyncPrefetch(boolean asyncTasks) {
    if (!asyncTasks || disablePrefetch) {
      return 0;
    }
    int children = pool.equals("process") && !childCommand.isEmpty() ? getConcurrency() * childAsyncConcurrency : 0;
    return Math.max(asyncConcurrency, children);
  }
  // --- end of issue 19 settings ---

  public WorkerOptions() {
  }

  public WorkerOptions(JsonObject json) {
    broker = json.getString("broker", broker);
    resultBackend = json.getString("result_backend", resultBackend);
    if (json.getValue("queues") != null) {
      queues = stringList(json.getValue("queues"));
    }
    concurrency = json.getInteger("concurrency", concurrency);
    pool = json.getString("pool", pool);
    hostname = json.getString("hostname", hostname);
    prefetchMultiplier = json.getInteger("prefetch_multiplier", prefetchMultiplier);
    loglevel = json.getString("loglevel", loglevel);
    timeLimit = positive(json.getDouble("time_limit"));
    softTimeLimit = positive(json.getDouble("soft_time_limit"));
    taskEvents = json.getBoolean("task_events", taskEvents);
    acksLate = json.getBoolean("acks_late", acksLate);
    trackStarted = json.getBoolean("track_started", trackStarted);
    acksOnFailureOrTimeout = json.getBoolean("acks_on_failure_or_timeout", acksOnFailureOrTimeout);
    rejectOnWorkerLost = json.getBoolean("reject_on_worker_lost", rejectOnWorkerLost);
    etaTaskLimit = json.getInteger("eta_task_limit", etaTaskLimit);
    disablePrefetch = json.getBoolean("disable_prefetch", disablePrefetch);
    statedb = json.getString("statedb", statedb);
    resultExtended = json.getBoolean("result_extended", resultExtended);
    taskDefaultQueue = json.getString("task_default_queue", taskDefaultQueue);
    resultExpires = json.getLong("result_expires", resultExpires);
    queueMaxPriority = json.getInteger("queue_max_priority", queueMaxPriority);
    if (json.getValue("app") != null) {
      apps = stringList(json.getValue("app"));
    }
    loadExamples = json.getBoolean("load_examples", loadExamples);
    httpHost = json.getString("http_host", httpHost);
    httpPort = json.getInteger("http_port", httpPort);
    httpToken = json.getString("http_token", httpToken);
    shutdownTimeout = json.getDouble("shutdown_timeout", shutdownTimeout);
    heartbeatInterval = json.getDouble("heartbeat_interval", heartbeatInterval);
    reconnectMaxDelayMs = json.getLong("reconnect_max_delay_ms", reconnectMaxDelayMs);
    brokerConnectionRetryOnStartup = json.getBoolean("broker_connection_retry_on_startup", brokerConnectionRetryOnStartup);
    brokerConnectionMaxRetries = json.getInteger("broker_connection_max_retries", brokerConnectionMaxRetries);
    eventLoops = json.getInteger("event_loops", eventLoops);
    Object bto = json.getValue("broker_transport_options");
    // an object in worker.json, JSON text when it comes from CELERITY_BROKER_TRANSPORT_OPTIONS
    if (bto instanceof JsonObject o) {
      brokerTransportOptions = o.copy();
    } else if (bto instanceof String text && !text.isBlank()) {
      brokerTransportOptions = new JsonObject(text);
    }
    if (json.getValue("child_command") != null) {
      childCommand = words(json.getValue("child_command"));
    }
    if (json.getValue("child_jvm_options") != null) {
      childJvmOptions = words(json.getValue("child_jvm_options"));
    }
    maxTasksPerChild = json.getInteger("max_tasks_per_child", maxTasksPerChild);
    maxMemoryPerChild = json.getLong("max_memory_per_child", maxMemoryPerChild);
    if (json.getValue("autoscale") != null) {
      autoscale = autoscale(json.getValue("autoscale"));
    }
    autoscaleKeepalive = json.getDouble("autoscale_keepalive", autoscaleKeepalive);
    childKillGrace = json.getDouble("child_kill_grace", childKillGrace);
    childStartTimeout = json.getDouble("child_start_timeout", childStartTimeout);
    Object rbto = json.getValue("result_backend_transport_options");
    if (rbto instanceof JsonObject o) {
      resultBackendTransportOptions = o.copy();
    } else if (rbto instanceof String text && !text.isBlank()) {
      resultBackendTransportOptions = new JsonObject(text);
    }
    resultBackendAlwaysRetry = json.getBoolean("result_backend_always_retry", resultBackendAlwaysRetry);
    resultBackendMaxRetries = json.getLong("result_backend_max_retries", resultBackendMaxRetries);
    resultBackendBaseSleepBetweenRetriesMs = json.getLong("result_backend_base_sleep_between_retries_ms",
      resultBackendBaseSleepBetweenRetriesMs);
    resultBackendMaxSleepBetweenRetriesMs = json.getLong("result_backend_max_sleep_between_retries_ms",
      resultBackendMaxSleepBetweenRetriesMs);
    maxAbandonedThreads = json.getInteger("max_abandoned_threads", maxAbandonedThreads);
    maxDecompressedBody = json.getLong("max_decompressed_body", maxDecompressedBody);
    unsettledDeadline = json.getDouble("unsettled_deadline", unsettledDeadline);
    asyncConcurrency = json.getInteger("async_concurrency", asyncConcurrency);
    childAsyncConcurrency = json.getInteger("child_async_concurrency", childAsyncConcurrency);
    asyncBlockedThreshold = json.getDouble("async_blocked_threshold", asyncBlockedThreshold);
    if (asyncConcurrency < 1 || childAsyncConcurrency < 1 || asyncBlockedThreshold <= 0) {
      throw new IllegalArgumentException("async_concurrency and child_async_concurrency must be at least 1, "
        + "async_blocked_threshold positive");
    }
    validate();
  }

  private void validate() {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1, not " + concurrency);
    }
    if (prefetchMultiplier < 0) {
      throw new IllegalArgumentException("prefetch_multiplier must not be negative");
    }
    if (queues.isEmpty()) {
      throw new IllegalArgumentException("at least one queue is needed");
    }
    if (!POOLS.contains(pool)) {
      throw new IllegalArgumentException("unknown pool '" + pool + "' (threads, solo, virtual or process)");
    }
    if (maxTasksPerChild < 0 || maxMemoryPerChild < 0) {
      throw new IllegalArgumentException("max_tasks_per_child and max_memory_per_child must not be negative");
    }
    if (maxAbandonedThreads != null && maxAbandonedThreads < 0) {
      throw new IllegalArgumentException("max_abandoned_threads must not be negative");
    }
    if (autoscale != null && (autoscale[1] < 1 || autoscale[0] < autoscale[1])) {
      throw new IllegalArgumentException("autoscale must be MAX,MIN with MAX >= MIN >= 1");
    }
  }

  private static Double positive(Double d) {
    return d == null || d <= 0 ? null : d;
  }

  /** Celery's {@code --autoscale MAX,MIN} (a single number means MAX,0 in Celery; here MAX,1). */
  private static int[] autoscale(Object v) {
    List<String> parts = stringList(v);
    try {
      int max = Integer.parseInt(parts.get(0));
      int min = parts.size() > 1 ? Integer.parseInt(parts.get(1)) : 1;
      return new int[] {max, Math.max(min, 1)};
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("autoscale must be MAX,MIN, not '" + v + "'");
    }
  }

  /** A command line: a JSON list, or text split on white space. */
  private static List<String> words(Object v) {
    if (v instanceof JsonArray || v instanceof List<?>) {
      return stringList(v);
    }
    List<String> out = new ArrayList<>();
    for (String s : v.toString().trim().split("\\s+")) {
      if (!s.isEmpty()) {
        out.add(s);
      }
    }
    return out;
  }

  private static List<String> stringList(Object v) {
    List<String> out = new ArrayList<>();
    if (v instanceof JsonArray a) {
      a.forEach(o -> out.add(o.toString().trim()));
    } else if (v instanceof List<?> l) {
      l.forEach(o -> out.add(o.toString().trim()));
    } else {
      for (String s : v.toString().split(",")) {
        if (!s.isBlank()) {
          out.add(s.trim());
        }
      }
    }
    return out;
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject()
      .put("broker", broker).put("result_backend", resultBackend).put("queues", new JsonArray(queues))
      .put("concurrency", concurrency).put("pool", pool).put("hostname", getHostname())
      .put("prefetch_multiplier", prefetchMultiplier).put("loglevel", loglevel)
      .put("time_limit", timeLimit).put("soft_time_limit", softTimeLimit)
      .put("task_events", taskEvents).put("acks_late", acksLate).put("track_started", trackStarted)
      .put("acks_on_failure_or_timeout", acksOnFailureOrTimeout).put("reject_on_worker_lost", rejectOnWorkerLost)
      .put("eta_task_limit", etaTaskLimit).put("disable_prefetch", disablePrefetch).put("statedb", statedb)
      .put("result_extended", resultExtended).put("task_default_queue", taskDefaultQueue).put("result_expires", resultExpires)
      .put("queue_max_priority", queueMaxPriority).put("app", new JsonArray(apps)).put("load_examples", loadExamples)
      .put("http_host", httpHost).put("http_port", httpPort).put("shutdown_timeout", shutdownTimeout)
      .put("heartbeat_interval", heartbeatInterval).put("reconnect_max_delay_ms", reconnectMaxDelayMs)
      .put("broker_connection_retry_on_startup", brokerConnectionRetryOnStartup)
      .put("broker_connection_max_retries", brokerConnectionMaxRetries)
      .put("event_loops", eventLoops)
      .put("broker_transport_options", brokerTransportOptions.copy())
      .put("child_command", new JsonArray(childCommand)).put("child_jvm_options", new JsonArray(childJvmOptions))
      .put("max_tasks_per_child", maxTasksPerChild).put("max_memory_per_child", maxMemoryPerChild)
      .put("autoscale", autoscale == null ? null : autoscale[0] + "," + autoscale[1])
      .put("autoscale_keepalive", autoscaleKeepalive).put("child_kill_grace", childKillGrace)
      .put("child_start_timeout", childStartTimeout)
      .put("result_backend_transport_options", resultBackendTransportOptions.copy())
      .put("result_backend_always_retry", resultBackendAlwaysRetry)
      .put("result_backend_max_retries", resultBackendMaxRetries)
      .put("result_backend_base_sleep_between_retries_ms", resultBackendBaseSleepBetweenRetriesMs)
      .put("result_backend_max_sleep_between_retries_ms", resultBackendMaxSleepBetweenRetriesMs)
      .put("max_abandoned_threads", maxAbandonedThreads) // null: follows the concurrency
      .put("max_decompressed_body", maxDecompressedBody).put("unsettled_deadline", unsettledDeadline)
      .put("async_concurrency", asyncConcurrency).put("child_async_concurrency", childAsyncConcurrency)
      .put("async_blocked_threshold", asyncBlockedThreshold);
    return j;
  }

  /** Celery's default node name, {@code celery@<host name>}. */
  public static String defaultHostname() {
    String h = defaultHostname;
    if (h == null) {
      // resolved once per JVM: it can take a DNS round trip, and inspect conf builds default options on an event loop
      try {
        h = "celery@" + InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        h = "celery@localhost";
      }
      defaultHostname = h;
    }
    return h;
  }

  private static volatile String defaultHostname;

  public String getBroker() {
    return broker;
  }

  public String getResultBackend() {
    return resultBackend;
  }

  public List<String> getQueues() {
    return queues;
  }

  /** Pool slots; with autoscale the maximum (Celery's prefetch count is computed from it too). */
  public int getConcurrency() {
    if (pool.equals("solo")) {
      return 1;
    }
    return autoscale != null ? autoscale[0] : concurrency;
  }

  /** Slots the pool starts with: the autoscale minimum, else the concurrency. */
  public int getInitialConcurrency() {
    return autoscale != null && !pool.equals("solo") ? autoscale[1] : getConcurrency();
  }

  public String getPool() {
    return pool;
  }

  /** The node name, resolved once: resolving the machine's host name can take a DNS round trip. */
  public String getHostname() {
    String n = nodename;
    if (n == null) {
      n = nodename = resolveNodename();
    }
    return n;
  }

  private String resolveNodename() {
    String host = defaultHostname().substring("celery@".length());
    if (hostname == null || hostname.isBlank()) {
      return "celery@" + host;
    }
    // Celery's default_nodename: a name without '@' is the host part, the name defaults to "celery".
    int at = hostname.indexOf('@');
    String name = at < 0 ? "celery" : hostname.substring(0, at);
    String h = at < 0 ? hostname : hostname.substring(at + 1);
    if (name.isEmpty()) {
      name = "celery";
    }
    if (h.isEmpty()) {
      h = host;
    }
    String shortHost = host.split("\\.")[0];
    String domain = host.contains(".") ? host.substring(host.indexOf('.') + 1) : "";
    return expand(name, host, shortHost, domain) + "@" + expand(h, host, shortHost, domain);
  }

  private static String expand(String s, String host, String shortHost, String domain) {
    return s.replace("%h", host).replace("%n", shortHost).replace("%d", domain);
  }

  /** Prefetch count as Celery computes it: concurrency x multiplier, 0 meaning unlimited. */
  public int getPrefetchCount() {
    // --disable-prefetch: never more unacked than slots (the consumer also pauses while all are busy)
    return getConcurrency() * (disablePrefetch ? 1 : prefetchMultiplier);
  }

  public int getPrefetchMultiplier() {
    return prefetchMultiplier;
  }

  public String getLoglevel() {
    return loglevel;
  }

  public Double getTimeLimit() {
    return timeLimit;
  }

  public Double getSoftTimeLimit() {
    return softTimeLimit;
  }

  public boolean isTaskEvents() {
    return taskEvents;
  }

  public boolean isAcksLate() {
    return acksLate;
  }

  public boolean isTrackStarted() {
    return trackStarted;
  }

  /** {@code task_acks_on_failure_or_timeout}: with acks_late, ack (true) or reject failed tasks. */
  public boolean isAcksOnFailureOrTimeout() {
    return acksOnFailureOrTimeout;
  }

  /** {@code task_reject_on_worker_lost}. */
  public boolean isRejectOnWorkerLost() {
    return rejectOnWorkerLost;
  }

  /** {@code worker_eta_task_limit}: most ETA tasks held at once, or null for no limit. */
  public Integer getEtaTaskLimit() {
    return etaTaskLimit;
  }

  /** {@code worker_disable_prefetch}: take a message only when a pool slot is free. */
  public boolean isDisablePrefetch() {
    return disablePrefetch;
  }

  /** {@code --statedb}: file keeping revoked ids across restarts, or null. */
  public String getStatedb() {
    return statedb;
  }

  public boolean isResultExtended() {
    return resultExtended;
  }

  /**
   * {@code task_default_queue}: where tasks the worker sends (callbacks, chain steps, chord bodies)
   * go when their signature names no queue, as in a Python worker's app.
   */
  public String getTaskDefaultQueue() {
    return taskDefaultQueue;
  }

  public long getResultExpires() {
    return resultExpires;
  }

  public Integer getQueueMaxPriority() {
    return queueMaxPriority;
  }

  public List<String> getApps() {
    return apps;
  }

  public boolean isLoadExamples() {
    return loadExamples;
  }

  public String getHttpHost() {
    return httpHost;
  }

  /**
   * Bearer token of the HTTP bridge ({@code http_token}, {@code CELERITY_HTTP_TOKEN}), or null.
   * Deliberately not part of {@link #toJson()}, so {@code inspect conf} never shows it.
   */
  public String getHttpToken() {
    return httpToken == null || httpToken.isEmpty() ? null : httpToken;
  }

  public int getHttpPort() {
    return httpPort;
  }

  public double getShutdownTimeout() {
    return shutdownTimeout;
  }

  public double getHeartbeatInterval() {
    return heartbeatInterval;
  }

  /** Vert.x event-loop threads (the CLI's Vert.x instance); default one per core. */
  public int getEventLoops() {
    return Math.max(1, eventLoops);
  }

  public long getReconnectMaxDelayMs() {
    return reconnectMaxDelayMs;
  }

  /** Celery's {@code broker_connection_retry_on_startup}: keep trying when the broker is down at start-up. */
  public boolean isBrokerConnectionRetryOnStartup() {
    return brokerConnectionRetryOnStartup;
  }

  /** Celery's {@code broker_connection_max_retries}: start-up retries before giving up (0 = no limit). */
  public int getBrokerConnectionMaxRetries() {
    return brokerConnectionMaxRetries;
  }

  /** Celery's {@code broker_transport_options}, e.g. {@code visibility_timeout} for Redis. */
  /**
   * How result writes are retried: {@code result_backend_transport_options.retry_policy} and the
   * {@code result_backend_*} retry settings (Celery's names and defaults).
   */
  public io.celerity.backend.WriteRetryPolicy getResultWriteRetryPolicy() {
    return io.celerity.backend.WriteRetryPolicy.from(resultBackendTransportOptions, resultBackendAlwaysRetry,
      resultBackendMaxRetries, resultBackendBaseSleepBetweenRetriesMs, resultBackendMaxSleepBetweenRetriesMs);
  }

  /**
   * {@code max_abandoned_threads}: bodies abandoned at their hard time limit that may still hold a
   * thread of their own before the pool stops adding threads for them (default: the concurrency).
   */
  public int getMaxAbandonedThreads() {
    return maxAbandonedThreads != null ? maxAbandonedThreads : concurrency;
  }

  public JsonObject getBrokerTransportOptions() {
    return brokerTransportOptions.copy();
  }

  /** The command that starts a child of {@code -P process}; empty = a Java child running the worker's tasks. */
  public List<String> getChildCommand() {
    return childCommand;
  }

  public List<String> getChildJvmOptions() {
    return childJvmOptions;
  }

  public int getMaxTasksPerChild() {
    return maxTasksPerChild;
  }

  /** KiB of resident memory after which a child is replaced (0 = no limit). */
  public long getMaxMemoryPerChild() {
    return maxMemoryPerChild;
  }

  /** {@code [max, min]}, or null without autoscale. */
  public int[] getAutoscale() {
    return autoscale == null ? null : autoscale.clone();
  }

  public double getAutoscaleKeepalive() {
    return autoscaleKeepalive;
  }

  public double getChildKillGrace() {
    return childKillGrace;
  }

  public double getChildStartTimeout() {
    return childStartTimeout;
  }

  /** Largest body, in bytes, a compressed message may inflate to; larger ones are acked and dropped. */
  public long getMaxDecompressedBody() {
    return maxDecompressedBody;
  }

  /**
   * Seconds after which a received delivery that is neither held (ETA, rate limit) nor known to the
   * pool, yet still unsettled, is reported as stuck (log, metric, {@code /ready}).
   */
  public double getUnsettledDeadline() {
    return unsettledDeadline;
  }
}

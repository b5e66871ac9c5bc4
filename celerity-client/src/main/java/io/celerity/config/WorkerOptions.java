package io.celerity.config;

import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Worker configuration: the values of the {@link Settings} (declared there once, with their keys,
 * types, flags and documentation), with typed getters for the code that reads them. The JSON form
 * is what {@code conf/worker.json}, {@code CELERITY_*} variables and CLI flags fill in.
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
  public static final int DEFAULT_MONITOR_MAX_TASKS = 10_000;
  public static final int DEFAULT_ASYNC_CONCURRENCY = 1000;
  public static final int DEFAULT_CHILD_ASYNC_CONCURRENCY = 100;
  public static final String DEFAULT_CHILD_ASYNC_LOOP = "auto";
  public static final boolean DEFAULT_CHILD_DEFER_STORES = true;
  public static final boolean DEFAULT_CHILD_PIPELINE = true;
  public static final double DEFAULT_ASYNC_BLOCKED_THRESHOLD = 1.0;
  public static final String DEFAULT_LOG_FORMAT = "text";

  /** Shortest {@code http_token} accepted. */
  public static final int MIN_HTTP_TOKEN_LENGTH = 16;

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
  public static final String DEFAULT_TASK_DEFAULT_QUEUE = "celery";
  public static final long DEFAULT_RESULT_BACKEND_BASE_SLEEP_BETWEEN_RETRIES_MS = 10;
  public static final long DEFAULT_RESULT_BACKEND_MAX_SLEEP_BETWEEN_RETRIES_MS = 10_000;

  /** Celery's {@code -l} choices, and logback's WARN and TRACE. */
  public static final List<String> LOGLEVELS =
      List.of("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "FATAL", "WARN", "TRACE");

  public static final List<String> DEFAULT_CHILD_JVM_OPTIONS =
      List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

  /** The values given; a setting not in here has its default. */
  private final Map<Setting<?>, Object> values = new HashMap<>();

  private String nodename;

  public WorkerOptions() {}

  /**
   * Settings from JSON (a deployment's config, or what {@link ConfigLoader} merged). Unknown keys
   * and values of the wrong type are refused with a {@link SettingException} naming the key.
   */
  public WorkerOptions(JsonObject json) {
    values.putAll(Settings.read(json, null));
  }

  /** The value of a setting: the one given, else its default. */
  @SuppressWarnings("unchecked")
  public <T> T get(Setting<T> s) {
    return values.containsKey(s) ? (T) values.get(s) : s.defaultValue();
  }

  /** Sets a setting, checked as if it had been read; null restores the default. */
  public <T> WorkerOptions set(Setting<T> s, T value) {
    if (value == null) {
      values.remove(s);
    } else {
      Settings.read(new JsonObject().put(s.key(), s.type().write(value)), null)
          .forEach(values::put);
    }
    nodename = null;
    return this;
  }

  /**
   * Every shown setting under its key ({@code inspect conf}, {@link ConfigLoader}'s defaults); the
   * node name resolved.
   */
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    for (Setting<?> s : Settings.all()) {
      if (s.shown()) {
        j.put(s.key(), write(s));
      }
    }
    return j.put(Settings.HOSTNAME.key(), getHostname());
  }

  private <T> Object write(Setting<T> s) {
    return s.type().write(get(s));
  }

  /** Celery's default node name, {@code celery@<host name>}. */
  public static String defaultHostname() {
    String h = defaultHostname;
    if (h == null) {
      // resolved once per JVM: it can take a DNS round trip, and inspect conf builds default
      // options on an event loop
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
    return get(Settings.BROKER);
  }

  public String getResultBackend() {
    return get(Settings.RESULT_BACKEND);
  }

  public List<String> getQueues() {
    return get(Settings.QUEUES);
  }

  /** Pool slots; with autoscale the maximum (Celery's prefetch count is computed from it too). */
  public int getConcurrency() {
    if (getPool().equals("solo")) {
      return 1;
    }
    int[] autoscale = get(Settings.AUTOSCALE);
    return autoscale != null ? autoscale[0] : get(Settings.CONCURRENCY);
  }

  /** Slots the pool starts with: the autoscale minimum, else the concurrency. */
  public int getInitialConcurrency() {
    int[] autoscale = get(Settings.AUTOSCALE);
    return autoscale != null && !getPool().equals("solo") ? autoscale[1] : getConcurrency();
  }

  public String getPool() {
    return get(Settings.POOL);
  }

  /** The node name, resolved once: resolving the machine's host name can take a DNS round trip. */
  public String getHostname() {
    String n = nodename;
    if (n == null) {
      n = nodename = resolveNodename(get(Settings.HOSTNAME));
    }
    return n;
  }

  private static String resolveNodename(String hostname) {
    String host = defaultHostname().substring("celery@".length());
    if (hostname == null || hostname.isBlank()) {
      return "celery@" + host;
    }
    // Celery's default_nodename: a name without '@' is the host part, the name defaults to
    // "celery".
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
    // --disable-prefetch: never more unacked than slots (the consumer also pauses while all are
    // busy)
    return getConcurrency() * (isDisablePrefetch() ? 1 : getPrefetchMultiplier());
  }

  public int getPrefetchMultiplier() {
    return get(Settings.PREFETCH_MULTIPLIER);
  }

  public String getLoglevel() {
    return get(Settings.LOGLEVEL);
  }

  /** Seconds, or null for none (a non-positive value means none). */
  public Double getTimeLimit() {
    return get(Settings.TIME_LIMIT);
  }

  public Double getSoftTimeLimit() {
    return get(Settings.SOFT_TIME_LIMIT);
  }

  public boolean isTaskEvents() {
    return get(Settings.TASK_EVENTS);
  }

  public boolean isAcksLate() {
    return get(Settings.ACKS_LATE);
  }

  public boolean isTrackStarted() {
    return get(Settings.TRACK_STARTED);
  }

  /** {@code task_acks_on_failure_or_timeout}: with acks_late, ack (true) or reject failed tasks. */
  public boolean isAcksOnFailureOrTimeout() {
    return get(Settings.ACKS_ON_FAILURE_OR_TIMEOUT);
  }

  /** {@code task_reject_on_worker_lost}. */
  public boolean isRejectOnWorkerLost() {
    return get(Settings.REJECT_ON_WORKER_LOST);
  }

  /** {@code worker_eta_task_limit}: most ETA tasks held at once, or null for no limit. */
  public Integer getEtaTaskLimit() {
    return get(Settings.ETA_TASK_LIMIT);
  }

  /** {@code worker_disable_prefetch}: take a message only when a pool slot is free. */
  public boolean isDisablePrefetch() {
    return get(Settings.DISABLE_PREFETCH);
  }

  /** {@code --statedb}: file keeping revoked ids across restarts, or null. */
  public String getStatedb() {
    return get(Settings.STATEDB);
  }

  public boolean isResultExtended() {
    return get(Settings.RESULT_EXTENDED);
  }

  /**
   * {@code task_default_queue}: where tasks the worker sends (callbacks, chain steps, chord bodies)
   * go when their signature names no queue, as in a Python worker's app.
   */
  public String getTaskDefaultQueue() {
    return get(Settings.TASK_DEFAULT_QUEUE);
  }

  public long getResultExpires() {
    return get(Settings.RESULT_EXPIRES);
  }

  public Integer getQueueMaxPriority() {
    return get(Settings.QUEUE_MAX_PRIORITY);
  }

  public List<String> getApps() {
    return get(Settings.APP);
  }

  public boolean isLoadExamples() {
    return get(Settings.LOAD_EXAMPLES);
  }

  public String getHttpHost() {
    return get(Settings.HTTP_HOST);
  }

  /**
   * Bearer token of the HTTP bridge ({@code http_token}, {@code CELERITY_HTTP_TOKEN}), or null. A
   * hidden setting: {@link #toJson()}, hence {@code inspect conf}, never shows it.
   */
  /**
   * {@code http_require_token_for_reads}: whether reads on the HTTP bridge (results, inspect,
   * metrics, dashboard) need the token too; by default on when {@code http_host} is beyond
   * loopback.
   */
  public boolean isHttpRequireTokenForReads() {
    Boolean set = get(Settings.HTTP_REQUIRE_TOKEN_FOR_READS);
    return set != null ? set : !Urls.isLoopback(getHttpHost());
  }

  /**
   * {@code http_allowed_hosts}: Host names the bridge answers besides IP literals, localhost and
   * http_host.
   */
  public List<String> getHttpAllowedHosts() {
    return get(Settings.HTTP_ALLOWED_HOSTS);
  }

  /** {@code http_cors_origins}: origins whose pages may call the bridge (CORS); empty = none. */
  public List<String> getHttpCorsOrigins() {
    return get(Settings.HTTP_CORS_ORIGINS);
  }

  /**
   * Whether the bridge's event monitor (dashboard, Flower API task history) listens to {@code
   * celeryev}.
   */
  public boolean isMonitorEvents() {
    return get(Settings.MONITOR_EVENTS);
  }

  /** Tasks the event monitor keeps (Flower's {@code max_tasks}); the oldest seen go first. */
  public int getMonitorMaxTasks() {
    return get(Settings.MONITOR_MAX_TASKS);
  }

  /**
   * {@code text} (Celery's log lines) or {@code json} (one JSON object per line, with the task's
   * MDC).
   */
  public String getLogFormat() {
    return get(Settings.LOG_FORMAT);
  }

  /**
   * RabbitMQ queue declarations ({@code task_default_queue_type}, {@code
   * worker_detect_quorum_queues}, {@code queue_arguments}), native delayed delivery and {@code
   * broker_failover_strategy}.
   */
  public io.celerity.transport.QueueTopology getQueueTopology() {
    return new io.celerity.transport.QueueTopology(
        get(Settings.TASK_DEFAULT_QUEUE_TYPE),
        get(Settings.DETECT_QUORUM_QUEUES),
        get(Settings.QUEUE_ARGUMENTS).getMap(),
        get(Settings.NATIVE_DELAYED_DELIVERY),
        get(Settings.NATIVE_DELAYED_DELIVERY_QUEUE_TYPE),
        get(Settings.BROKER_FAILOVER_STRATEGY));
  }

  /** {@code async_concurrency}: async Java tasks (returning a future) in flight at once. */
  public int getAsyncConcurrency() {
    return get(Settings.ASYNC_CONCURRENCY);
  }

  /**
   * {@code child_async_concurrency}: Python {@code async def} tasks in flight at once per child of
   * {@code -P process}.
   */
  public int getChildAsyncConcurrency() {
    return get(Settings.CHILD_ASYNC_CONCURRENCY);
  }

  /**
   * {@code child_async_loop}: {@code auto}, {@code asyncio} or {@code uvloop}, the event loop of
   * the Python children's {@code async def} tasks.
   */
  public String getChildAsyncLoop() {
    return get(Settings.CHILD_ASYNC_LOOP);
  }

  /**
   * {@code child_defer_stores}: Python children hand a task's final state to the worker to write
   * (Redis results).
   */
  public boolean isChildDeferStores() {
    return get(Settings.CHILD_DEFER_STORES);
  }

  /**
   * {@code child_pipeline}: a busy child that can queue one (Python children) gets its next task
   * before it replies; never with {@code disable_prefetch}, which reserves nothing behind a task.
   */
  public boolean isChildPipeline() {
    return get(Settings.CHILD_PIPELINE) && !isDisablePrefetch();
  }

  /**
   * {@code async_blocked_threshold}: seconds an event loop running async tasks may go unanswered
   * before it is reported.
   */
  public double getAsyncBlockedThreshold() {
    return get(Settings.ASYNC_BLOCKED_THRESHOLD);
  }

  /**
   * Messages prefetched beyond {@link #getPrefetchCount()} when async tasks are registered: enough
   * to fill the async slots (the Java ones, or the children's coroutines), which are not pool
   * slots.
   */
  public int getAsyncPrefetch(boolean asyncTasks) {
    if (!asyncTasks || isDisablePrefetch()) {
      return 0;
    }
    int children =
        getPool().equals("process") && !getChildCommand().isEmpty()
            ? getConcurrency() * getChildAsyncConcurrency()
            : 0;
    return Math.max(getAsyncConcurrency(), children);
  }

  public String getHttpToken() {
    String token = get(Settings.HTTP_TOKEN);
    return token == null || token.isEmpty() ? null : token;
  }

  public int getHttpPort() {
    return get(Settings.HTTP_PORT);
  }

  public double getShutdownTimeout() {
    return get(Settings.SHUTDOWN_TIMEOUT);
  }

  public double getHeartbeatInterval() {
    return get(Settings.HEARTBEAT_INTERVAL);
  }

  /** Vert.x event-loop threads (the CLI's Vert.x instance); default one per core. */
  public int getEventLoops() {
    return Math.max(1, get(Settings.EVENT_LOOPS));
  }

  /** Netty's native epoll transport for the event loops where it loads (Linux), else NIO. */
  public boolean isNativeTransport() {
    return get(Settings.NATIVE_TRANSPORT);
  }

  public long getReconnectMaxDelayMs() {
    return get(Settings.RECONNECT_MAX_DELAY_MS);
  }

  /**
   * Celery's {@code broker_connection_retry_on_startup}: keep trying when the broker is down at
   * start-up.
   */
  public boolean isBrokerConnectionRetryOnStartup() {
    return get(Settings.BROKER_CONNECTION_RETRY_ON_STARTUP);
  }

  /**
   * Celery's {@code broker_connection_max_retries}: start-up retries before giving up (0 = no
   * limit).
   */
  public int getBrokerConnectionMaxRetries() {
    return get(Settings.BROKER_CONNECTION_MAX_RETRIES);
  }

  /**
   * How result writes are retried: {@code result_backend_transport_options.retry_policy} and the
   * {@code result_backend_*} retry settings (Celery's names and defaults).
   */
  public io.celerity.backend.WriteRetryPolicy getResultWriteRetryPolicy() {
    return io.celerity.backend.WriteRetryPolicy.from(
        get(Settings.RESULT_BACKEND_TRANSPORT_OPTIONS),
        get(Settings.RESULT_BACKEND_ALWAYS_RETRY),
        get(Settings.RESULT_BACKEND_MAX_RETRIES),
        get(Settings.RESULT_BACKEND_BASE_SLEEP_BETWEEN_RETRIES_MS),
        get(Settings.RESULT_BACKEND_MAX_SLEEP_BETWEEN_RETRIES_MS));
  }

  /**
   * {@code max_abandoned_threads}: bodies abandoned at their hard time limit that may still hold a
   * thread of their own before the pool stops adding threads for them (default: the concurrency).
   */
  public int getMaxAbandonedThreads() {
    Integer max = get(Settings.MAX_ABANDONED_THREADS);
    return max != null ? max : get(Settings.CONCURRENCY);
  }

  /** Celery's {@code broker_transport_options}, e.g. {@code visibility_timeout} for Redis. */
  public JsonObject getBrokerTransportOptions() {
    return get(Settings.BROKER_TRANSPORT_OPTIONS).copy();
  }

  /**
   * The command that starts a child of {@code -P process}; empty = a Java child running the
   * worker's tasks.
   */
  public List<String> getChildCommand() {
    return get(Settings.CHILD_COMMAND);
  }

  public List<String> getChildJvmOptions() {
    return get(Settings.CHILD_JVM_OPTIONS);
  }

  public int getMaxTasksPerChild() {
    return get(Settings.MAX_TASKS_PER_CHILD);
  }

  /** KiB of resident memory after which a child is replaced (0 = no limit). */
  public long getMaxMemoryPerChild() {
    return get(Settings.MAX_MEMORY_PER_CHILD);
  }

  /** {@code [max, min]}, or null without autoscale. */
  public int[] getAutoscale() {
    int[] autoscale = get(Settings.AUTOSCALE);
    return autoscale == null ? null : autoscale.clone();
  }

  public double getAutoscaleKeepalive() {
    return get(Settings.AUTOSCALE_KEEPALIVE);
  }

  public double getChildKillGrace() {
    return get(Settings.CHILD_KILL_GRACE);
  }

  public double getChildStartTimeout() {
    return get(Settings.CHILD_START_TIMEOUT);
  }

  /**
   * Largest body, in bytes, a compressed message may inflate to; larger ones are acked and dropped.
   */
  public long getMaxDecompressedBody() {
    return get(Settings.MAX_DECOMPRESSED_BODY);
  }

  /**
   * Seconds after which a received delivery that is neither held (ETA, rate limit) nor known to the
   * pool, yet still unsettled, is reported as stuck (log, metric, {@code /ready}).
   */
  public double getUnsettledDeadline() {
    return get(Settings.UNSETTLED_DEADLINE);
  }
}

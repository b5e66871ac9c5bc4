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

  private String broker = DEFAULT_BROKER;
  private String resultBackend = DEFAULT_RESULT_BACKEND;
  private List<String> queues = new ArrayList<>(DEFAULT_QUEUES);
  private int concurrency = Runtime.getRuntime().availableProcessors();
  private String pool = DEFAULT_POOL;
  private String hostname;
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
  private long resultExpires = DEFAULT_RESULT_EXPIRES;
  private Integer queueMaxPriority;
  private List<String> apps = new ArrayList<>();
  private boolean loadExamples = true;
  private String httpHost = DEFAULT_HTTP_HOST;
  private int httpPort = DEFAULT_HTTP_PORT;
  private double shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
  private double heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL;
  private long reconnectMaxDelayMs = DEFAULT_RECONNECT_MAX_DELAY_MS;
  private JsonObject brokerTransportOptions = new JsonObject();

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
    resultExpires = json.getLong("result_expires", resultExpires);
    queueMaxPriority = json.getInteger("queue_max_priority", queueMaxPriority);
    if (json.getValue("app") != null) {
      apps = stringList(json.getValue("app"));
    }
    loadExamples = json.getBoolean("load_examples", loadExamples);
    httpHost = json.getString("http_host", httpHost);
    httpPort = json.getInteger("http_port", httpPort);
    shutdownTimeout = json.getDouble("shutdown_timeout", shutdownTimeout);
    heartbeatInterval = json.getDouble("heartbeat_interval", heartbeatInterval);
    reconnectMaxDelayMs = json.getLong("reconnect_max_delay_ms", reconnectMaxDelayMs);
    Object bto = json.getValue("broker_transport_options");
    // an object in worker.json, JSON text when it comes from CELERITY_BROKER_TRANSPORT_OPTIONS
    if (bto instanceof JsonObject o) {
      brokerTransportOptions = o.copy();
    } else if (bto instanceof String text && !text.isBlank()) {
      brokerTransportOptions = new JsonObject(text);
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
    if (!List.of("threads", "solo", "virtual").contains(pool)) {
      throw new IllegalArgumentException("unknown pool '" + pool + "' (threads, solo or virtual)");
    }
  }

  private static Double positive(Double d) {
    return d == null || d <= 0 ? null : d;
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
      .put("result_extended", resultExtended).put("result_expires", resultExpires)
      .put("queue_max_priority", queueMaxPriority).put("app", new JsonArray(apps)).put("load_examples", loadExamples)
      .put("http_host", httpHost).put("http_port", httpPort).put("shutdown_timeout", shutdownTimeout)
      .put("heartbeat_interval", heartbeatInterval).put("reconnect_max_delay_ms", reconnectMaxDelayMs)
      .put("broker_transport_options", brokerTransportOptions.copy());
    return j;
  }

  /** Celery's default node name, {@code celery@<host name>}. */
  public static String defaultHostname() {
    try {
      return "celery@" + InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "celery@localhost";
    }
  }

  public String getBroker() {
    return broker;
  }

  public String getResultBackend() {
    return resultBackend;
  }

  public List<String> getQueues() {
    return queues;
  }

  public int getConcurrency() {
    return pool.equals("solo") ? 1 : concurrency;
  }

  public String getPool() {
    return pool;
  }

  public String getHostname() {
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
    return getConcurrency() * prefetchMultiplier;
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

  public int getHttpPort() {
    return httpPort;
  }

  public double getShutdownTimeout() {
    return shutdownTimeout;
  }

  public double getHeartbeatInterval() {
    return heartbeatInterval;
  }

  public long getReconnectMaxDelayMs() {
    return reconnectMaxDelayMs;
  }

  /** Celery's {@code broker_transport_options}, e.g. {@code visibility_timeout} for Redis. */
  public JsonObject getBrokerTransportOptions() {
    return brokerTransportOptions.copy();
  }
}

package io.celerity.config;

import static io.celerity.config.WorkerOptions.*;

import io.celerity.transport.QueueTopology;
import io.celerity.transport.TransportOptions;
import io.vertx.core.json.JsonObject;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The table of worker settings: each declared once, in the order of docs/configuration.md. To add
 * one, add a line here (a {@code DEFAULT_*} constant in {@link WorkerOptions} if it has a default,
 * and a typed getter there if code reads it often); the file, environment and flag readers, {@code
 * inspect conf} and the documentation table follow. See docs/configuration.md, "Adding a setting".
 */
public final class Settings {

  // first: add() fills them while the constants below are initialised
  private static final Map<String, Setting<?>> BY_KEY = new LinkedHashMap<>();
  private static final Map<String, String> FLAGS = new LinkedHashMap<>();

  private static final int CPUS = Runtime.getRuntime().availableProcessors();

  /** Celery's {@code --autoscale MAX,MIN} (a single number means MAX,0 in Celery; here MAX,1). */
  private static final SettingType<int[]> AUTOSCALE_TYPE =
      new SettingType<>(
          "MAX,MIN",
          v ->
              v instanceof String || v instanceof Number
                  ? autoscale(v.toString())
                  : SettingType.mismatch(),
          Settings::autoscale,
          a -> a[0] + "," + a[1]);

  public static final Setting<String> BROKER =
      add(
          text("broker", DEFAULT_BROKER)
              .flag("-b", "--broker")
              .celery("broker_url")
              .celeryDoc("`broker_url`, `-b`")
              .doc(
                  "`amqp://user:pass@host:port/vhost` (kombu's form: `//` = vhost `/`), `amqps://`, "
                      + "`redis://[:password@]host:port/db`, `rediss://…`, `sentinel://h1:26379;sentinel://h2:26379/db` "
                      + "(see [redis.md](redis.md)), or `memory://` (in-JVM, demo only); several AMQP URLs separated by `;` are failover alternatives "
                      + "(`broker_failover_strategy`, [high-availability.md](high-availability.md))"));
  public static final Setting<String> RESULT_BACKEND =
      add(
          text("result_backend", DEFAULT_RESULT_BACKEND)
              .flag("--result-backend")
              .celery("result_backend")
              .doc(
                  "`redis://[:password@]host:port/db`, `rediss://…`, `rpc://` (results as messages to the caller's reply "
                      + "queue, through the broker connection), `memory://` (kept in the worker, readable over HTTP), `disabled`"));
  public static final Setting<List<String>> QUEUES =
      add(
          list("queues", DEFAULT_QUEUES)
              .flag("-Q", "--queues")
              .celeryDoc("`-Q`")
              .check(q -> !q.isEmpty(), "name at least one queue")
              .doc(
                  "queues to declare and consume; each gets a durable direct exchange of the same name"));
  public static final Setting<Integer> CONCURRENCY =
      add(
          integer("concurrency", CPUS)
              .flag("-c", "--concurrency")
              .celery("worker_concurrency")
              .celeryDoc("`worker_concurrency`, `-c`")
              .defaultDoc("number of CPUs")
              .check(c -> c >= 1, "be at least 1")
              .doc("pool slots"));
  public static final Setting<String> POOL =
      add(
          text("pool", DEFAULT_POOL)
              .flag("-P", "--pool")
              .celery("worker_pool")
              .celeryDoc("`worker_pool`, `-P`")
              .choices(POOLS.toArray(String[]::new))
              .doc(
                  "`threads`, `solo` (one at a time), `virtual` (virtual threads, Java 21+; fails clearly on 17), "
                      + "`process` (child processes, see [process-pool.md](process-pool.md))"));
  public static final Setting<String> HOSTNAME =
      add(
          text("hostname", null)
              .flag("-n", "--hostname")
              .celeryDoc("`-n`")
              .defaultDoc("`celery@<host>`")
              .doc(
                  "node name; `%h` is the host name, `%n` its first label; a bare name gets `@<host>`"));
  public static final Setting<Integer> PREFETCH_MULTIPLIER =
      add(
          integer("prefetch_multiplier", DEFAULT_PREFETCH_MULTIPLIER)
              .flag("--prefetch-multiplier")
              .celery("worker_prefetch_multiplier")
              .check(m -> m >= 0, "not be negative")
              .doc("prefetch count = concurrency x this (0 = unlimited)"));
  public static final Setting<String> LOGLEVEL =
      add(
          text("loglevel", DEFAULT_LOGLEVEL)
              .flag("-l", "--loglevel")
              .celeryDoc("`-l`")
              .choices(LOGLEVELS.toArray(String[]::new))
              .doc(
                  "`DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL` (or `FATAL`, `WARN`, `TRACE`; any case)"));
  public static final Setting<Double> TIME_LIMIT =
      add(
          number("time_limit", null)
              .flag("--time-limit")
              .celery("task_time_limit")
              .normalise(Settings::positive)
              .doc(
                  "hard limit in seconds: the task is abandoned and fails with `TimeLimitExceeded`"));
  public static final Setting<Double> SOFT_TIME_LIMIT =
      add(
          number("soft_time_limit", null)
              .flag("--soft-time-limit")
              .celery("task_soft_time_limit")
              .normalise(Settings::positive)
              .doc(
                  "soft limit in seconds: the task thread is interrupted and `TaskContext.softTimeLimitExceeded()` turns true"));
  public static final Setting<Boolean> TASK_EVENTS =
      add(
          bool("task_events", false)
              .switchFlag(true, "-E", "--task-events")
              .celery("worker_send_task_events")
              .celeryDoc("`worker_send_task_events`, `-E`")
              .doc("send task events (worker events are always sent)"));
  public static final Setting<Boolean> ACKS_LATE =
      add(
          bool("acks_late", false)
              .celery("task_acks_late")
              .doc("ack after the task ran (and its result was stored) instead of when it starts"));
  public static final Setting<Boolean> TRACK_STARTED =
      add(
          bool("track_started", false)
              .celery("task_track_started")
              .doc("store state STARTED before running"));
  public static final Setting<Boolean> RESULT_EXTENDED =
      add(
          bool("result_extended", false)
              .celery("result_extended")
              .doc("add name, args, kwargs, worker, retries, queue to result documents"));
  public static final Setting<String> TASK_DEFAULT_QUEUE =
      add(
          text("task_default_queue", DEFAULT_TASK_DEFAULT_QUEUE)
              .celery("task_default_queue")
              .doc(
                  "queue of the tasks the worker sends itself (link callbacks, errbacks, chain steps, chord bodies) when "
                      + "their signature names none"));
  public static final Setting<Long> RESULT_EXPIRES =
      add(
          longInt("result_expires", DEFAULT_RESULT_EXPIRES)
              .celery("result_expires")
              .doc("seconds a Redis result is kept (0 = forever)"));
  public static final Setting<Integer> QUEUE_MAX_PRIORITY =
      add(
          integer("queue_max_priority", null)
              .celery("task_queue_max_priority")
              .doc(
                  "declare queues with `x-max-priority`; must match existing queues, RabbitMQ refuses a mismatch"));
  public static final Setting<List<String>> APP =
      add(
          list("app", List.of())
              .flag("-A", "--app")
              .celeryDoc("`-A`")
              .doc("classes with `@Task` methods or implementing `TaskModule`"));
  public static final Setting<Boolean> LOAD_EXAMPLES =
      add(
          bool("load_examples", true)
              .switchFlag(false, "--without-examples")
              .doc("load the `examples.*` tasks"));
  public static final Setting<String> HTTP_HOST =
      add(text("http_host", DEFAULT_HTTP_HOST).flag("--http-host").doc("HTTP bridge address"));
  public static final Setting<Integer> HTTP_PORT =
      add(
          integer("http_port", DEFAULT_HTTP_PORT)
              .flag("--http-port")
              .check(p -> p >= 0 && p <= 65535, "be a port number (0 to 65535)")
              .doc("HTTP bridge port (0 = any free port)"));
  public static final Setting<String> HTTP_TOKEN =
      add(
          text("http_token", null)
              .hidden()
              .defaultDoc("unset: generated")
              .check(
                  t -> t.length() >= MIN_HTTP_TOKEN_LENGTH,
                  "have at least "
                      + MIN_HTTP_TOKEN_LENGTH
                      + " characters; make one with: openssl rand -hex 24")
              .doc(
                  "bearer token of the HTTP bridge, at least 16 characters (a shorter one stops the worker at start); required "
                      + "when `http_host` is not a loopback address. Unset on loopback, each run generates one and prints it once in "
                      + "the banner. Sending tasks and control commands always need it (see [http-api.md](http-api.md)); never "
                      + "shown by `inspect conf`"));
  public static final Setting<Boolean> HTTP_REQUIRE_TOKEN_FOR_READS =
      add(
          new Setting<>("http_require_token_for_reads", SettingType.BOOLEAN, (Boolean) null)
              .defaultDoc("on when `http_host` is beyond loopback, else off")
              .doc(
                  "whether reads on the HTTP bridge (results, inspect, stats, metrics, dashboard) need the token too; "
                      + "`/health` and `/ready` never do"));
  public static final Setting<List<String>> HTTP_ALLOWED_HOSTS =
      add(
          list("http_allowed_hosts", List.of())
              .defaultDoc("none")
              .doc(
                  "`Host` names the bridge answers besides IP literals, `localhost` and `http_host` "
                      + "(DNS-rebinding guard): `celerity.example.com`, `.svc.cluster.local` (a domain and its subdomains), or `*` (any)"));
  public static final Setting<List<String>> HTTP_CORS_ORIGINS =
      add(
          list("http_cors_origins", List.of())
              .defaultDoc("none (CORS off)")
              .doc(
                  "origins whose pages may call the bridge, e.g. `https://ops.example.com` "
                      + "(or `*`); requests from any other origin are refused"));
  public static final Setting<Double> SHUTDOWN_TIMEOUT =
      add(
          number("shutdown_timeout", DEFAULT_SHUTDOWN_TIMEOUT)
              .flag("--shutdown-timeout")
              .doc("seconds a warm shutdown waits for running tasks"));
  public static final Setting<Double> HEARTBEAT_INTERVAL =
      add(
          number("heartbeat_interval", DEFAULT_HEARTBEAT_INTERVAL)
              .celery("event_heartbeat_interval")
              .celeryDoc("`--heartbeat-interval`")
              .doc("seconds between `worker-heartbeat` events"));
  public static final Setting<JsonObject> BROKER_TRANSPORT_OPTIONS =
      add(
          object("broker_transport_options")
              .celery("broker_transport_options")
              .doc(
                  "JSON object; for Redis `visibility_timeout` (3600), `global_keyprefix`, `master_name`; the broker URL's "
                      + "query (`?visibility_timeout=600`) wins. See [redis.md](redis.md). For RabbitMQ `consumer_connection`: "
                      + "`loop` (default, the task consumer's connection read and written on the event loop) or `client` (on "
                      + "the RabbitMQ Java client, as before stop 36), see [architecture.md](architecture.md)"));
  public static final Setting<List<String>> CHILD_COMMAND =
      add(
          words("child_command", List.of())
              .flag("--child")
              .defaultDoc("none (Java children)")
              .doc(
                  "`-P process`: command starting a child, e.g. `python3 -m celerity_child proj.tasks` (text split on "
                      + "spaces, or a JSON list)"));
  public static final Setting<List<String>> CHILD_JVM_OPTIONS =
      add(
          words("child_jvm_options", DEFAULT_CHILD_JVM_OPTIONS)
              .doc("JVM options of Java children"));
  public static final Setting<Integer> MAX_TASKS_PER_CHILD =
      add(
          integer("max_tasks_per_child", DEFAULT_MAX_TASKS_PER_CHILD)
              .flag("--max-tasks-per-child")
              .celery("worker_max_tasks_per_child")
              .defaultDoc("`0` (no limit)")
              .check(n -> n >= 0, "not be negative")
              .doc("replace a child after this many tasks"));
  public static final Setting<Long> MAX_MEMORY_PER_CHILD =
      add(
          longInt("max_memory_per_child", DEFAULT_MAX_MEMORY_PER_CHILD)
              .flag("--max-memory-per-child")
              .celery("worker_max_memory_per_child")
              .defaultDoc("`0` (no limit)")
              .check(n -> n >= 0, "not be negative")
              .doc(
                  "replace a child whose resident memory exceeds this many KiB (checked after each task)"));
  public static final Setting<int[]> AUTOSCALE =
      add(
          new Setting<>("autoscale", AUTOSCALE_TYPE, null)
              .flag("--autoscale")
              .celeryDoc("`--autoscale`")
              .check(a -> a[1] >= 1 && a[0] >= a[1], "be MAX,MIN with MAX >= MIN >= 1")
              .doc(
                  "`MAX,MIN`: slots grow up to MAX under load and shrink to MIN; prefetch uses MAX"));
  public static final Setting<Double> AUTOSCALE_KEEPALIVE =
      add(
          number("autoscale_keepalive", DEFAULT_AUTOSCALE_KEEPALIVE)
              .celeryDoc("`AUTOSCALE_KEEPALIVE`")
              .doc("seconds of low load before the pool shrinks by one slot"));
  public static final Setting<Boolean> REJECT_ON_WORKER_LOST =
      add(
          bool("reject_on_worker_lost", false)
              .celery("task_reject_on_worker_lost")
              .doc(
                  "with `acks_late`, requeue the message when its child dies instead of storing WorkerLostError"));
  public static final Setting<Double> CHILD_KILL_GRACE =
      add(
          number("child_kill_grace", DEFAULT_CHILD_KILL_GRACE)
              .doc("seconds between SIGTERM and SIGKILL when a child is killed"));
  public static final Setting<Double> CHILD_START_TIMEOUT =
      add(
          number("child_start_timeout", DEFAULT_CHILD_START_TIMEOUT)
              .doc("seconds the worker waits for its first children at start-up"));
  public static final Setting<Integer> EVENT_LOOPS =
      add(
          integer("event_loops", CPUS)
              .defaultDoc("number of CPUs")
              .doc(
                  "Vert.x event-loop threads of `celerity worker` (Vert.x's default is twice that; fewer loops mean fewer "
                      + "thread hand-offs per task)"));
  public static final Setting<Boolean> NATIVE_TRANSPORT =
      add(
          bool("native_transport", true)
              .doc(
                  "the event loops use Linux's epoll through Netty's native transport (bundled for x86_64 and aarch64): "
                      + "15 system calls per task instead of 27 on a warm worker (docs/performance.md); false, or where it cannot load "
                      + "(another OS or CPU, a `noexec` temp directory), Java's NIO selector"));
  public static final Setting<Long> RECONNECT_MAX_DELAY_MS =
      add(
          longInt("reconnect_max_delay_ms", DEFAULT_RECONNECT_MAX_DELAY_MS)
              .celeryDoc("`broker_connection_retry` (roughly)")
              .doc(
                  "cap of the reconnect backoff (200 ms doubling); after a loss the worker retries for ever"));
  public static final Setting<Boolean> BROKER_CONNECTION_RETRY_ON_STARTUP =
      add(
          bool("broker_connection_retry_on_startup", TransportOptions.DEFAULT_RETRY_ON_STARTUP)
              .celery("broker_connection_retry_on_startup")
              .doc(
                  "keep trying when the broker cannot be reached at start-up (`Cannot connect to amqp://guest:**@…: <error>. "
                      + "Trying again in 0.40 seconds... (2/100)`); the HTTP bridge is up meanwhile and `/ready` answers 503; "
                      + "false: exit at once"));
  public static final Setting<Integer> BROKER_CONNECTION_MAX_RETRIES =
      add(
          integer("broker_connection_max_retries", TransportOptions.DEFAULT_MAX_RETRIES)
              .celery("broker_connection_max_retries")
              .doc(
                  "start-up retries before the worker gives up and exits with status 1 (0 = no limit)"));
  public static final Setting<Boolean> ACKS_ON_FAILURE_OR_TIMEOUT =
      add(
          bool("acks_on_failure_or_timeout", true)
              .celery("task_acks_on_failure_or_timeout")
              .doc(
                  "with `acks_late`: ack (true) or reject without requeue (false) a task that failed or timed out"));
  public static final Setting<Integer> ETA_TASK_LIMIT =
      add(
          integer("eta_task_limit", null)
              .celery("worker_eta_task_limit")
              .doc(
                  "most ETA/countdown tasks that raise the prefetch count; past it they take ordinary prefetch slots, which "
                      + "bounds their memory"));
  public static final Setting<Long> MAX_DECOMPRESSED_BODY =
      add(
          longInt("max_decompressed_body", DEFAULT_MAX_DECOMPRESSED_BODY)
              .defaultDoc("`67108864` (64 MiB)")
              .doc(
                  "largest size a compressed message body may inflate to; a larger one (a compression bomb) is logged, acked "
                      + "and dropped like any undecodable body. Compressed bodies and bodies over 256 KiB are decoded on a worker "
                      + "thread, never on the consumer's event loop"));
  public static final Setting<Double> UNSETTLED_DEADLINE =
      add(
          number("unsettled_deadline", DEFAULT_UNSETTLED_DEADLINE)
              .doc(
                  "seconds after which a received message that is still neither acked nor rejected, and that neither the "
                      + "consumer (ETA, rate limit) nor the pool (reserved, running) holds, is reported as stuck: an error log line "
                      + "with its task id, the gauge `celerity_unsettled_stuck`, and `/ready` answering 503"));
  public static final Setting<Boolean> DISABLE_PREFETCH =
      add(
          bool("disable_prefetch", false)
              .switchFlag(true, "--disable-prefetch")
              .celery("worker_disable_prefetch")
              .celeryDoc("`worker_disable_prefetch` (Celery 5.6), `-O fair` (roughly)")
              .doc(
                  "take a message from the broker only when a pool slot is free, so nothing is reserved behind a long task "
                      + "(docs/semantics.md)"));
  public static final Setting<String> STATEDB =
      add(
          text("statedb", null)
              .flag("-S", "--statedb")
              .celery("worker_state_db")
              .celeryDoc("`worker_state_db`, `--statedb`")
              .doc("file keeping revoked task ids across restarts (JSON, see docs/semantics.md)"));
  public static final Setting<JsonObject> RESULT_BACKEND_TRANSPORT_OPTIONS =
      add(
          object("result_backend_transport_options")
              .celery("result_backend_transport_options")
              .doc(
                  "JSON object; `retry_policy` (`max_retries` 20, `interval_start` 0, `interval_step` 1, `interval_max` 1: "
                      + "Celery's Redis/RPC backend policy) sets how a failed result write (backend unreachable) is retried: waits of "
                      + "0, 1, 1, … s, about 19 s in all; `max_retries: null` retries for ever. See docs/semantics.md, \"Results "
                      + "before acks\""));
  public static final Setting<Boolean> RESULT_BACKEND_ALWAYS_RETRY =
      add(
          bool("result_backend_always_retry", false)
              .celery("result_backend_always_retry")
              .doc(
                  "after `retry_policy` gave up, try the write again and again with a full-jitter exponential backoff "
                      + "(below), up to `result_backend_max_retries`"));
  public static final Setting<Long> RESULT_BACKEND_MAX_RETRIES =
      add(
          longInt("result_backend_max_retries", null)
              .celery("result_backend_max_retries")
              .defaultDoc("none (for ever)")
              .doc("with `result_backend_always_retry`: how many times"));
  public static final Setting<Long> RESULT_BACKEND_BASE_SLEEP_BETWEEN_RETRIES_MS =
      add(
          longInt(
                  "result_backend_base_sleep_between_retries_ms",
                  DEFAULT_RESULT_BACKEND_BASE_SLEEP_BETWEEN_RETRIES_MS)
              .celery("result_backend_base_sleep_between_retries_ms")
              .doc("backoff base: wait `random(0 .. min(max, base x 2^n))` ms before try n"));
  public static final Setting<Long> RESULT_BACKEND_MAX_SLEEP_BETWEEN_RETRIES_MS =
      add(
          longInt(
                  "result_backend_max_sleep_between_retries_ms",
                  DEFAULT_RESULT_BACKEND_MAX_SLEEP_BETWEEN_RETRIES_MS)
              .celery("result_backend_max_sleep_between_retries_ms")
              .doc("backoff cap"));
  public static final Setting<Integer> MAX_ABANDONED_THREADS =
      add(
          integer("max_abandoned_threads", null)
              .defaultDoc("the concurrency")
              .check(n -> n >= 0, "not be negative")
              .doc(
                  "`-P threads`/`solo`/`virtual`: bodies abandoned at a hard time limit (they ignore the interrupt) that get "
                      + "a thread in their place. Past the cap an abandoned body keeps its slot until it returns (a warning names "
                      + "it), so `timelimit` headers cannot grow the pool without bound; see the gauge "
                      + "`celerity_pool_abandoned_threads`"));

  // --- settings added by other issues: one add(...) line each, here ---
  // issue 19: async tasks
  public static final Setting<Integer> ASYNC_CONCURRENCY =
      add(
          integer("async_concurrency", DEFAULT_ASYNC_CONCURRENCY)
              .check(n -> n >= 1, "be at least 1")
              .doc(
                  "async Java tasks (returning a `Future` or `CompletionStage`) in flight at once, apart from the pool's "
                      + "slots; the prefetch window grows by as much (see [tasks.md](tasks.md))"));
  public static final Setting<Integer> CHILD_ASYNC_CONCURRENCY =
      add(
          integer("child_async_concurrency", DEFAULT_CHILD_ASYNC_CONCURRENCY)
              .check(n -> n >= 1, "be at least 1")
              .doc(
                  "`-P process`: Python `async def` tasks in flight at once per child (see [process-pool.md](process-pool.md))"));
  public static final Setting<String> CHILD_ASYNC_LOOP =
      add(
          text("child_async_loop", DEFAULT_CHILD_ASYNC_LOOP)
              .choices("auto", "asyncio", "uvloop")
              .doc(
                  "`-P process`: the event loop Python children run `async def` tasks on: `uvloop` (fails the child at "
                      + "start if it is not importable), `asyncio` (the standard library's), `auto` (uvloop when "
                      + "importable, else asyncio; see [process-pool.md](process-pool.md))"));
  // issue 18: Python children's final states written by the worker
  public static final Setting<Boolean> CHILD_DEFER_STORES =
      add(
          bool("child_defer_stores", DEFAULT_CHILD_DEFER_STORES)
              .doc(
                  "`-P process` with Redis results: a Python child's tracer hands the task's final state (Celery's key "
                      + "and document) to the worker, which writes it with its other results in one script call before "
                      + "acking; `false`: the child writes it itself, as a prefork child does (the task's `task_success` "
                      + "and `task_postrun` handlers then run after the state is visible; see "
                      + "[process-pool.md](process-pool.md))"));
  // issue 18: a child's next task written before its reply, so the child never waits for the parent
  public static final Setting<Boolean> CHILD_PIPELINE =
      add(
          bool("child_pipeline", DEFAULT_CHILD_PIPELINE)
              .doc(
                  "`-P process`: a busy child (the Python runner, Java children) is handed its next task before it replies for the current one "
                      + "(one queued per child), so it goes on without waiting for the worker; a task queued behind "
                      + "one that runs longer than 10 ms is taken back for the first idle child. `false` (or `-O "
                      + "fair`, or `disable_prefetch`): a child gets a task only when idle (see "
                      + "[process-pool.md](process-pool.md))"));
  public static final Setting<Double> ASYNC_BLOCKED_THRESHOLD =
      add(
          number("async_blocked_threshold", DEFAULT_ASYNC_BLOCKED_THRESHOLD)
              .check(n -> n > 0, "be positive")
              .doc(
                  "seconds an event loop running async tasks (or a child's asyncio loop) may stay blocked before it is "
                      + "reported, naming the task"));
  // issue 17: queue types, native delayed delivery, failover
  public static final Setting<String> TASK_DEFAULT_QUEUE_TYPE =
      add(
          text("task_default_queue_type", QueueTopology.DEFAULT.queueType())
              .choices(QueueTopology.CLASSIC, QueueTopology.QUORUM)
              .celery("task_default_queue_type")
              .celeryDoc("`task_default_queue_type` (Celery 5.5)")
              .doc(
                  "`quorum`: declare the task queues as RabbitMQ quorum queues (`x-queue-type: quorum`, replicated across a "
                      + "cluster); consumed with per-consumer prefetch (quorum queues refuse global QoS) and with native delayed "
                      + "delivery for ETA tasks. See [high-availability.md](high-availability.md)"));
  public static final Setting<Boolean> DETECT_QUORUM_QUEUES =
      add(
          bool("detect_quorum_queues", QueueTopology.DEFAULT.detectQuorum())
              .celery("worker_detect_quorum_queues")
              .celeryDoc("`worker_detect_quorum_queues` (Celery 5.5)")
              .doc(
                  "a queue that already exists with the other type is consumed as it is (a quorum queue as one) instead of "
                      + "failing with `PRECONDITION_FAILED - inequivalent arg 'x-queue-type'`; false: start-up fails with the "
                      + "broker's reason"));
  public static final Setting<JsonObject> QUEUE_ARGUMENTS =
      add(
          object("queue_arguments")
              .celeryDoc("kombu `Queue(queue_arguments=...)`")
              .doc(
                  "JSON object of `x-` arguments for every declared task queue, e.g. `{\"x-delivery-limit\": 5, "
                      + "\"x-dead-letter-exchange\": \"\", \"x-dead-letter-routing-key\": \"celery.dead\"}`; must match existing queues"));
  public static final Setting<String> NATIVE_DELAYED_DELIVERY =
      add(
          text("native_delayed_delivery", QueueTopology.DEFAULT.delayedDelivery())
              .choices("auto", "always", "off")
              .celeryDoc("— (automatic for quorum queues in Celery 5.5)")
              .doc(
                  "where countdown/ETA tasks wait: `auto` = in the broker's native delayed delivery queues "
                      + "(`celery_delayed_0..27`, shared with Celery 5.5) for quorum queues, unacked in the worker for classic ones; "
                      + "`always` = in the broker for every RabbitMQ queue; `off` = unacked in the worker (RabbitMQ's "
                      + "`consumer_timeout` then closes the channel after 30 min)"));
  public static final Setting<String> NATIVE_DELAYED_DELIVERY_QUEUE_TYPE =
      add(
          text("native_delayed_delivery_queue_type", QueueTopology.DEFAULT.delayedQueueType())
              .choices(QueueTopology.CLASSIC, QueueTopology.QUORUM)
              .celery("broker_native_delayed_delivery_queue_type")
              .celeryDoc("`broker_native_delayed_delivery_queue_type` (Celery 5.5)")
              .doc("type of the `celery_delayed_N` queues (`quorum` or `classic`)"));
  public static final Setting<String> BROKER_FAILOVER_STRATEGY =
      add(
          text("broker_failover_strategy", QueueTopology.DEFAULT.failoverStrategy())
              .choices("round-robin", "shuffle")
              .celery("broker_failover_strategy")
              .doc(
                  "with several broker URLs (`amqp://h1//;amqp://h2//`): after a failed attempt or a lost connection the next "
                      + "attempt goes to the next URL (`round-robin`) or to another one at random (`shuffle`)"));
  // issue 16: the bridge's event monitor and the log format
  public static final Setting<Boolean> MONITOR_EVENTS =
      add(
          bool("monitor_events", true)
              .celeryDoc("Flower's event receiver")
              .doc(
                  "the HTTP bridge listens to Celery's events (`celeryev`, a queue of its own bound with `#`, as Flower does) "
                      + "and keeps the task history and the workers seen that the dashboard and the Flower API serve "
                      + "([observability.md](observability.md)); false: no event queue, both stay empty"));
  public static final Setting<Integer> MONITOR_MAX_TASKS =
      add(
          integer("monitor_max_tasks", DEFAULT_MONITOR_MAX_TASKS)
              .celeryDoc("Flower's `--max_tasks`")
              .check(n -> n >= 1, "be at least 1")
              .doc("tasks the event monitor keeps in memory; past it the oldest seen go first"));
  public static final Setting<String> LOG_FORMAT =
      add(
          text("log_format", DEFAULT_LOG_FORMAT)
              .choices("text", "json")
              .doc(
                  "`text`: Celery's log lines; `json`: one JSON object per line with the MDC (`task_id`, `task_name`) as "
                      + "fields ([observability.md](observability.md)). `CELERITY_LOG_FORMAT=json` also switches the `-P process` children"));

  private Settings() {}

  // ---- declaring

  private static <T> Setting<T> add(Setting<T> s) {
    if (BY_KEY.putIfAbsent(s.key(), s) != null) {
      throw new IllegalStateException("setting declared twice: " + s.key());
    }
    for (String f : s.flags()) {
      String other = FLAGS.putIfAbsent(f, s.key());
      if (other != null) {
        throw new IllegalStateException(
            "flag " + f + " given to both " + other + " and " + s.key());
      }
    }
    return s;
  }

  private static Setting<String> text(String key, String def) {
    return new Setting<>(key, SettingType.TEXT, def);
  }

  private static Setting<Boolean> bool(String key, boolean def) {
    return new Setting<>(key, SettingType.BOOLEAN, def);
  }

  private static Setting<Integer> integer(String key, Integer def) {
    return new Setting<>(key, SettingType.INT, def);
  }

  private static Setting<Long> longInt(String key, Long def) {
    return new Setting<>(key, SettingType.LONG, def);
  }

  private static Setting<Double> number(String key, Double def) {
    return new Setting<>(key, SettingType.NUMBER, def);
  }

  private static Setting<List<String>> list(String key, List<String> def) {
    return new Setting<>(key, SettingType.LIST, def);
  }

  private static Setting<List<String>> words(String key, List<String> def) {
    return new Setting<>(key, SettingType.WORDS, def);
  }

  private static Setting<JsonObject> object(String key) {
    return new Setting<>(key, SettingType.OBJECT, new JsonObject()).defaultDoc("`{}`");
  }

  private static int[] autoscale(String text) {
    String[] parts = text.split(",");
    try {
      int max = Integer.parseInt(parts[0].trim());
      int min = parts.length > 1 ? Integer.parseInt(parts[1].trim()) : 1;
      return new int[] {max, Math.max(min, 1)};
    } catch (NumberFormatException e) {
      return SettingType.mismatch();
    }
  }

  private static Double positive(Double d) {
    return d == null || d <= 0 ? null : d;
  }

  // ---- using

  /** Every setting, in the order of the documentation. */
  public static Collection<Setting<?>> all() {
    return Collections.unmodifiableCollection(BY_KEY.values());
  }

  /** The setting with this key, or null. */
  public static Setting<?> byKey(String key) {
    return BY_KEY.get(key);
  }

  /**
   * Our key -> Celery's name, for the settings Celery has ({@code inspect conf} uses Celery's
   * names).
   */
  public static Map<String, String> celeryNames() {
    Map<String, String> out = new LinkedHashMap<>();
    BY_KEY.values().stream()
        .filter(s -> s.celery() != null)
        .forEach(s -> out.put(s.key(), s.celery()));
    return out;
  }

  /**
   * Reads settings from JSON, refusing unknown keys and values of the wrong type.
   *
   * @param where the file they come from, for messages; null when they come from a deployment's
   *     config
   * @return the values given (null values mean "unset" and are left out)
   */
  static Map<Setting<?>, Object> read(JsonObject json, String where) {
    Map<Setting<?>, Object> out = new LinkedHashMap<>();
    String in = where == null ? "" : " in " + where;
    for (Map.Entry<String, Object> e : json) {
      Setting<?> s = BY_KEY.get(e.getKey());
      if (s == null) {
        Setting<?> near = nearest(e.getKey());
        throw new SettingException(
            "unknown setting '"
                + e.getKey()
                + "'"
                + in
                + (near == null
                    ? " (the settings are listed in docs/configuration.md)"
                    : "; did you mean '" + near.key() + "'?"));
      }
      Object v = readJson(s, e.getValue(), "setting '" + s.key() + "'" + in);
      if (v != null) {
        out.put(s, v);
      }
    }
    return out;
  }

  private static <T> T readJson(Setting<T> s, Object raw, String what) {
    try {
      T v = s.type().fromJson(raw);
      return v == null ? null : s.accept(v);
    } catch (SettingType.Mismatch m) {
      // a secret's value is never echoed, not even when it is refused
      throw new SettingException(
          what
              + " "
              + reason(s, m)
              + (s.shown() ? ", not " + shortJson(raw) : "")
              + choiceHint(s, raw));
    }
  }

  /**
   * Reads a value given as text (a variable, a flag) and returns it as JSON.
   *
   * @param origin how the user wrote it, for messages: {@code CELERITY_CONCURRENCY=many}, {@code
   *     --concurrency many}
   */
  public static <T> Object parseText(Setting<T> s, String text, String origin) {
    try {
      return s.type().write(s.accept(s.type().fromText(text)));
    } catch (SettingType.Mismatch m) {
      String shownOrigin = s.shown() || text.isEmpty() ? origin : origin.replace(text, "***");
      throw new SettingException(
          shownOrigin + ": " + s.key() + " " + reason(s, m) + choiceHint(s, text));
    }
  }

  private static String reason(Setting<?> s, SettingType.Mismatch m) {
    return m.getMessage() != null ? m.getMessage() : "must be " + s.type().expected();
  }

  private static String choiceHint(Setting<?> s, Object raw) {
    if (s.choices() == null || !(raw instanceof String text)) {
      return "";
    }
    String near =
        closest(
            text.toLowerCase(Locale.ROOT),
            s.choices().stream().map(c -> c.toLowerCase(Locale.ROOT)).toList());
    return near == null ? "" : "; did you mean '" + near + "'?";
  }

  private static String shortJson(Object raw) {
    String s = io.vertx.core.json.Json.encode(raw);
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }

  /**
   * The setting probably meant by an unknown key: the one Celery calls that ({@code broker_url}),
   * else the closest key by edit distance, if close enough.
   */
  public static Setting<?> nearest(String unknown) {
    String k = unknown.toLowerCase(Locale.ROOT);
    for (Setting<?> s : BY_KEY.values()) {
      if (k.equals(s.celery()) || k.equals(s.key())) {
        return s;
      }
    }
    String near = closest(k, BY_KEY.keySet());
    return near == null ? null : BY_KEY.get(near);
  }

  /**
   * The candidate closest to {@code word} (Damerau-Levenshtein), or null when none is near enough
   * to be a typo.
   */
  static String closest(String word, Collection<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = distance(word, c);
      if (d < bestDistance) {
        best = c;
        bestDistance = d;
      }
    }
    int allowed = Math.max(2, Math.min(4, word.length() / 4));
    return bestDistance <= allowed && bestDistance < word.length() ? best : null;
  }

  /** Edit distance counting an insertion, deletion, substitution or swap of neighbours as one. */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  // ---- documenting

  /** The settings table of docs/configuration.md. */
  public static String markdownTable() {
    StringBuilder out =
        new StringBuilder(
            "| key | flag | default | Celery setting / flag | meaning |\n|---|---|---|---|---|\n");
    for (Setting<?> s : BY_KEY.values()) {
      String flags =
          s.flags().isEmpty()
              ? "—"
              : String.join(", ", s.flags().stream().map(f -> "`" + f + "`").toList());
      out.append("| `")
          .append(s.key())
          .append("` | ")
          .append(flags)
          .append(" | ")
          .append(defaultCell(s))
          .append(" | ")
          .append(s.celeryDoc())
          .append(" | ")
          .append(s.doc())
          .append(" |\n");
    }
    return out.toString();
  }

  private static <T> String defaultCell(Setting<T> s) {
    if (s.defaultDoc() != null) {
      return s.defaultDoc();
    }
    T v = s.defaultValue();
    if (v == null) {
      return "none";
    }
    Object json = s.type().write(v);
    if (json instanceof Double d && d == Math.rint(d)) {
      json = d.longValue();
    }
    String text =
        json instanceof String str
            ? str
            : io.vertx.core.json.Json.encode(json).replace("\",\"", "\", \"");
    return "`" + text + "`";
  }

  /** The text of a flag's help: the documentation line without its Markdown, and the default. */
  public static String help(Setting<?> s) {
    String text = s.doc().replaceAll("\\[([^]]+)]\\([^)]+\\)", "$1").replace("`", "");
    if (s.switchValue() != null) {
      return text + ". Sets " + s.key() + " to " + s.switchValue() + " (" + s.env() + ").";
    }
    return text
        + ". Default: "
        + defaultCell(s).replace("`", "")
        + ". Setting "
        + s.key()
        + ", "
        + s.env()
        + ".";
  }
}

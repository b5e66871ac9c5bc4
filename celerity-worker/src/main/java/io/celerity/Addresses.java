package io.celerity;

/**
 * Every event-bus address the worker's verticles use. Messages on them are local objects (sent with
 * local codecs: records of {@code io.celerity.types}); JSON travels only where it is already
 * Celery's reply to a remote-control command, passed through as it will be sent.
 */
public final class Addresses {

  /** consumer -> pool-dispatcher: a {@code Request} to run. */
  public static final String POOL_APPLY = "celerity.pool.apply";

  /** consumer -> pool-dispatcher: a {@code Request.Batch}, the requests of one consumer turn. */
  public static final String POOL_APPLY_ALL = "celerity.pool.apply.all";

  /** control/heartbeat -> pool-dispatcher: replies {@code PoolStats}. */
  public static final String POOL_STATS = "celerity.pool.stats";

  /**
   * {@code inspect conf} detail of a Python app in {@code -P process} children: reply = the app's
   * own non-default settings ({@code app.conf.table(with_defaults=False)}), or null without Python
   * children.
   */
  public static final String POOL_APP_CONF = "celerity.pool.app-conf";

  /**
   * worker -> pool-dispatcher: finish running tasks (bounded), hand queued ones back; replies when
   * done.
   */
  public static final String POOL_DRAIN = "celerity.pool.drain";

  /**
   * consumer -> pool-dispatcher: the broker connection of this generation (a Long) was lost; drop
   * its queued requests, the broker redelivers them.
   */
  public static final String POOL_FORGET_GENERATION = "celerity.pool.forget-generation";

  /** pool-dispatcher -> result-reader: a {@code Request} has started. */
  public static final String RESULT_STARTED = "celerity.result.started";

  /** pool-dispatcher/consumer -> result-reader: a {@code TaskOutcome}. */
  public static final String RESULT_OUTCOME = "celerity.result.outcome";

  /** pool-dispatcher -> result-reader: a {@code TaskOutcome.Batch}, the outcomes of one turn. */
  public static final String RESULT_OUTCOME_ALL = "celerity.result.outcome.all";

  /** control -> result-reader: the stored document of a task id (JSON or null). */
  public static final String RESULT_GET = "celerity.result.get";

  /** control -> result-reader: replies {@code ResultStats}. */
  public static final String RESULT_STATS = "celerity.result.stats";

  /**
   * control -> result-reader: the result backend's health for {@code /ready}; replies {@code
   * ResultHealth}.
   */
  public static final String RESULT_HEALTH = "celerity.result.health";

  /** worker -> result-reader: replies once every pending write is done. */
  public static final String RESULT_FLUSH = "celerity.result.flush";

  /** result-reader/pool -> consumer: a {@code Settle} (ack, reject, requeue). */
  public static final String CONSUMER_SETTLE = "celerity.consumer.settle";

  /** A {@code Settle.Batch}: the early acks of one pool event-loop turn. */
  public static final String CONSUMER_SETTLE_ALL = "celerity.consumer.settle.all";

  /**
   * pool -> result-reader: a {@code Launch} a running task sends ({@code ctx.applyAsync}): chord
   * sizes stored, then every message published; replies when the broker confirmed them all.
   */
  public static final String RESULT_LAUNCH = "celerity.result.launch";

  /** any -> consumer: an {@code OutgoingMessage} to publish; replies when confirmed. */
  public static final String BROKER_PUBLISH = "celerity.broker.publish";

  /** control -> consumer: replies {@code ConsumerStats}. */
  public static final String CONSUMER_STATS = "celerity.consumer.stats";

  /** worker -> consumer: stop taking new messages; replies when consumers are cancelled. */
  public static final String CONSUMER_STOP = "celerity.consumer.stop";

  /**
   * control -> consumer: a {@code ControlRequests.Revoke}; remember revoked ids, drop held requests
   * with them.
   */
  public static final String CONSUMER_REVOKE = "celerity.consumer.revoke";

  /**
   * control -> consumer: a {@code ControlRequests.RateLimit}; replies Celery's {@code
   * {"ok"|"error": ...}}.
   */
  public static final String CONSUMER_RATE_LIMIT = "celerity.consumer.rate-limit";

  /**
   * control -> pool-dispatcher: a {@code ControlRequests.Revoke}; replies the terminated ids (a
   * JSON array).
   */
  public static final String POOL_REVOKE = "celerity.pool.revoke";

  /** control -> consumer: a {@code FanoutSubscription}; replies once consuming. */
  public static final String CONSUMER_FANOUT = "celerity.consumer.fanout";

  /**
   * control -> consumer: replies {@code ControlRequests.Scheduled}, the requests held for their
   * ETA.
   */
  public static final String CONSUMER_SCHEDULED = "celerity.consumer.scheduled";

  /** consumer -> control: pidbox deliveries ({@code Delivery}). */
  public static final String CONTROL_PIDBOX = "celerity.control.pidbox";

  /**
   * consumer -> control: deliveries of the event monitor's {@code celeryev} queue ({@code
   * Delivery}).
   */
  public static final String CONTROL_EVENTS = "celerity.control.events";

  /**
   * control -> consumer: JSON array {@code [{"name", "messages"}]} of the consumed queues, where
   * the broker tells.
   */
  public static final String CONSUMER_QUEUE_LENGTHS = "celerity.consumer.queue-lengths";

  /**
   * pool-dispatcher -> consumer: this many (Integer) requests left the pool; sent only with {@code
   * disable_prefetch}.
   */
  public static final String CONSUMER_SLOTS_FREED = "celerity.consumer.slots-freed";

  /** control -> heartbeat: replies {@code HeartbeatStatus} (event-loop lag, last beat, clock). */
  public static final String HEARTBEAT_STATUS = "celerity.heartbeat.status";

  /**
   * launcher -> worker: shut down, warm ({@code true}) or cold; replies when the broker connection
   * is closed.
   */
  public static final String WORKER_SHUTDOWN = "celerity.worker.shutdown";

  /**
   * control/consumer -> pool-dispatcher: replies {@code ControlRequests.PoolRequests} (active and
   * reserved, as inspect shows them).
   */
  public static final String POOL_REQUESTS = "celerity.pool.requests";

  /**
   * control -> pool-dispatcher: a {@code ControlRequests.Autoscale}; replies Celery's {@code
   * autoscale} reply.
   */
  public static final String POOL_AUTOSCALE = "celerity.pool.autoscale";

  /**
   * control -> pool-dispatcher: a {@code ControlRequests.PoolResize}; replies Celery's
   * pool_grow/pool_shrink reply.
   */
  public static final String POOL_RESIZE = "celerity.pool.resize";

  /** control -> consumer: JSON array of {@code active_queues} descriptions. */
  public static final String CONSUMER_QUEUES = "celerity.consumer.queues";

  /**
   * control -> consumer: the queue name (String) of {@code add_consumer}; replies Celery's reply.
   */
  public static final String CONSUMER_ADD_QUEUE = "celerity.consumer.add-queue";

  /**
   * control -> consumer: the queue name (String) of {@code cancel_consumer}; replies Celery's
   * reply.
   */
  public static final String CONSUMER_CANCEL_QUEUE = "celerity.consumer.cancel-queue";

  /** control -> consumer: JSON {@code {id: epoch millis}} of the revoked set. */
  public static final String CONSUMER_REVOKED = "celerity.consumer.revoked";

  /**
   * control/worker -> heartbeat: send one worker event now: {@code worker-heartbeat} (null body,
   * the {@code heartbeat} command) or {@code "worker-offline"} (shutdown, while the broker
   * connection is still up).
   */
  public static final String HEARTBEAT_SEND = "celerity.heartbeat.send";

  /**
   * control -> launcher: the remote-control {@code shutdown} command arrived; shut down warm and
   * exit.
   */
  public static final String WORKER_REMOTE_SHUTDOWN = "celerity.worker.remote-shutdown";

  private Addresses() {}
}

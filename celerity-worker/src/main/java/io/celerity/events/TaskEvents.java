package io.celerity.events;

import io.celerity.protocol.IsoTime;
import io.celerity.protocol.Json;
import io.celerity.protocol.PyRepr;
import io.celerity.protocol.States;
import io.celerity.protocol.TaskMessage;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.Request;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Celery's event dispatcher for one worker (one per Vert.x instance): the Lamport clock shared by
 * events and remote control, the {@code -E} switch, and the task-event buffer.
 *
 * <p>Any verticle may call the {@code task*} methods. When task events are off they return after
 * one volatile read. When on, the event is queued and the publishing verticle is woken on its own
 * event loop; everything queued by then goes out as one message ({@code task.multi} with a JSON
 * array, as the Python worker batches), published without waiting for a confirm, so no task ever
 * waits for the broker because of an event.
 */
public final class TaskEvents implements Shareable {

  /** Celery flushes its task-event buffer at this size. */
  static final int MAX_BATCH = 24;

  private static final String KEY = "celerity.task-events";
  private static final long PID = ProcessHandle.current().pid();

  private final AtomicLong clock = new AtomicLong();
  private volatile boolean enabled;
  private volatile String hostname = "celery@localhost";
  private final ConcurrentLinkedQueue<Map<String, Object>> buffer = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean flushScheduled = new AtomicBoolean();
  private volatile Context publisherContext;
  private volatile Consumer<OutgoingMessage> publisher;

  private TaskEvents() {}

  /** The worker's instance in {@code vertx} (created on first use). */
  public static TaskEvents of(Vertx vertx) {
    var map = vertx.sharedData().<String, TaskEvents>getLocalMap(KEY);
    TaskEvents mine = new TaskEvents();
    TaskEvents prior = map.putIfAbsent(KEY, mine);
    return prior != null ? prior : mine;
  }

  /** Sets the node name events carry. */
  public TaskEvents hostname(String name) {
    this.hostname = name;
    return this;
  }

  /**
   * Where batches go: {@code publish} runs on {@code context} (the verticle owning the events
   * exchange publishing). Until set, task events are buffered.
   */
  public void publisher(Context context, Consumer<OutgoingMessage> publish) {
    this.publisherContext = context;
    this.publisher = publish;
    scheduleFlush();
  }

  /** The Lamport clock shared by events, heartbeats and remote-control replies. */
  public AtomicLong clock() {
    return clock;
  }

  /** Clock rule on receipt: {@code clock = max(clock, received) + 1}. */
  public long observe(long received) {
    return clock.updateAndGet(c -> Math.max(c, received) + 1);
  }

  public boolean enabled() {
    return enabled;
  }

  /**
   * Switches task events on or off ({@code -E}, {@code enable_events}); returns the previous value.
   */
  public boolean enabled(boolean on) {
    boolean was = enabled;
    enabled = on;
    return was;
  }

  /** {@code task-received}: the message was accepted (ETA tasks too, at once). */
  public void taskReceived(Request r) {
    if (!enabled) {
      return;
    }
    TaskMessage m = r.message();
    Map<String, Object> e = common(m.id());
    e.put("name", m.displayName()); // Celery: the shadow name when there is one
    e.put("args", m.argsrepr() != null ? m.argsrepr() : PyRepr.tuple(m.args()));
    e.put("kwargs", m.kwargsrepr() != null ? m.kwargsrepr() : PyRepr.dict(m.kwargs()));
    e.put("root_id", m.rootId());
    e.put("parent_id", m.parentId());
    e.put("retries", m.retries());
    e.put("eta", m.eta() == null ? null : IsoTime.utc(m.eta()));
    e.put("expires", m.expires() == null ? null : IsoTime.utc(m.expires()));
    emit(e, "task-received");
  }

  /** {@code task-started}: execution begins. */
  public void taskStarted(Request r) {
    if (enabled) {
      emit(common(r.id()), "task-started");
    }
  }

  /** {@code task-rejected}: the message was rejected instead of run. */
  public void taskRejected(String id, boolean requeue) {
    if (enabled) {
      Map<String, Object> e = common(id);
      e.put("requeue", requeue);
      emit(e, "task-rejected");
    }
  }

  /**
   * {@code task-succeeded}, {@code task-failed}, {@code task-retried} or {@code task-revoked} for
   * an outcome.
   */
  public void taskOutcome(TaskOutcome o) {
    if (!enabled) {
      return;
    }
    Map<String, Object> e = common(o.message().id());
    switch (o.state()) {
      case States.SUCCESS -> {
        String repr = PyRepr.of(o.value());
        e.put("result", repr.length() > 1024 ? repr.substring(0, 1024) : repr);
        e.put("runtime", o.runtimeSeconds());
        emit(e, "task-succeeded");
      }
      case States.RETRY -> {
        e.put(
            "exception",
            o.error() != null
                ? o.error().repr()
                : "Retry(" + PyRepr.of(o.retry().getMessage()) + ")");
        e.put("traceback", o.error() != null ? o.error().traceback() : null);
        emit(e, "task-retried");
      }
      case States.REJECTED -> {
        if (o.request() != null
            && o.request().acksLate()) { // Celery: only a message not yet acked is rejected
          e.put("requeue", o.requeue());
          emit(e, "task-rejected");
        }
      }
      case States.IGNORED -> {
        // Celery's Ignore: the message is acked, no event
      }
      case States.REVOKED -> {
        String reason =
            o.error() == null || o.error().args().isEmpty()
                ? "revoked"
                : String.valueOf(o.error().args().get(0));
        boolean terminated = "terminated".equals(reason);
        e.put("terminated", terminated);
        // The pool does not report which signal it used; SIGTERM is the default of
        // revoke(terminate=True).
        e.put("signum", terminated ? 15 : null);
        e.put("expired", "expired".equals(reason));
        emit(e, "task-revoked");
      }
      default -> {
        e.put("exception", o.error().repr());
        if (o.request() != null) { // unknown tasks: Celery sends only uuid and exception
          e.put("traceback", o.error().traceback());
        }
        emit(e, "task-failed");
      }
    }
  }

  private Map<String, Object> common(String uuid) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("hostname", hostname);
    e.put("utcoffset", utcoffset());
    e.put("pid", PID);
    e.put("clock", 0L); // ticked in emit, where the buffer's order is decided
    e.put("uuid", uuid);
    return e;
  }

  /** Celery's utcoffset is {@code time.timezone // 3600}: hours <em>west</em> of UTC. */
  public static int utcoffset() {
    return Math.floorDiv(-TimeZone.getDefault().getOffset(System.currentTimeMillis()) / 1000, 3600);
  }

  private void emit(Map<String, Object> e, String type) {
    e.put("timestamp", System.currentTimeMillis() / 1000.0);
    e.put("type", type);
    // Events come from several threads (consumer and pool loops): ticking the clock and queueing
    // under one lock keeps the clocks increasing in the order monitors receive them.
    synchronized (buffer) {
      e.put("clock", clock.incrementAndGet());
      buffer.add(e);
    }
    scheduleFlush();
  }

  private void scheduleFlush() {
    Context ctx = publisherContext;
    if (ctx != null && !buffer.isEmpty() && flushScheduled.compareAndSet(false, true)) {
      ctx.runOnContext(v -> flush());
    }
  }

  /**
   * Publishes what is buffered: one event singly under its own routing key, more as {@code
   * task.multi} batches.
   */
  void flush() {
    flushScheduled.set(false);
    Consumer<OutgoingMessage> out = publisher;
    List<Map<String, Object>> batch = new ArrayList<>();
    Map<String, Object> e;
    while ((e = buffer.poll()) != null) {
      batch.add(e);
      if (batch.size() == MAX_BATCH) {
        out.accept(message(batch));
        batch = new ArrayList<>();
      }
    }
    if (!batch.isEmpty()) {
      out.accept(message(batch));
    }
  }

  /** The broker message for a batch of task events. */
  OutgoingMessage message(List<Map<String, Object>> batch) {
    Map<String, Object> props = Map.of("delivery_mode", 1, "priority", 0);
    Map<String, Object> headers = Map.of("hostname", hostname);
    if (batch.size() == 1) {
      Map<String, Object> only = batch.get(0);
      return OutgoingMessage.json(
          "celeryev",
          String.valueOf(only.get("type")).replace('-', '.'),
          Json.encode(only),
          headers,
          props);
    }
    return OutgoingMessage.json("celeryev", "task.multi", Json.encode(batch), headers, props);
  }
}

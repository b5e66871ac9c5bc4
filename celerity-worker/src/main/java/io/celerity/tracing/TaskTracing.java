package io.celerity.tracing;

import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.States;
import io.celerity.protocol.TaskMessage;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.TaskOutcome;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * W3C trace context carried as opentelemetry-instrumentation-celery carries it: {@code traceparent}
 * and {@code tracestate} are top-level message headers (its {@code before_task_publish} handler
 * injects into the message headers; its {@code task_prerun} handler extracts from {@code
 * task.request}, which protocol 2 fills from those headers). A task's span, {@code run/<task name>}
 * of kind CONSUMER, is the child of the incoming context; every task message the worker publishes
 * for it (callbacks, chain steps, chord bodies, retries, replacements), found by its {@code
 * parent_id} or (a retry) its own {@code id}, carries the task's context.
 *
 * <p>Spans go through the OpenTelemetry API only: nothing happens until the application installs an
 * SDK as {@link GlobalOpenTelemetry} (one volatile read per task otherwise).
 */
public final class TaskTracing {

  /** The instrumentation scope of the spans. */
  public static final String SCOPE = "io.celerity";

  /** opentelemetry-instrumentation-celery's attribute keys and values. */
  static final AttributeKey<String> ACTION = AttributeKey.stringKey("celery.action");

  static final AttributeKey<String> TASK_NAME = AttributeKey.stringKey("celery.task_name");
  static final AttributeKey<String> MESSAGE_ID = AttributeKey.stringKey("messaging.message.id");
  static final AttributeKey<String> HOSTNAME = AttributeKey.stringKey("celery.hostname");
  static final AttributeKey<String> STATE = AttributeKey.stringKey("celery.state");
  static final AttributeKey<String> RETRY_REASON = AttributeKey.stringKey("celery.retry.reason");
  static final AttributeKey<String> REVOKED_REASON =
      AttributeKey.stringKey("celery.revoked.reason");

  /**
   * Contexts kept for the messages a task publishes after its body returned; the oldest go past
   * this.
   */
  static final int MAX_CONTEXTS = 10_000;

  private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
  private static final TextMapGetter<Map<String, Object>> HEADERS =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, Object> carrier) {
          return carrier.keySet();
        }

        @Override
        public String get(Map<String, Object> carrier, String key) {
          Object v = carrier == null ? null : carrier.get(key);
          return v == null ? null : v.toString();
        }
      };

  /** The span context of each task that ran here, by task id, for the messages published for it. */
  private static final Map<String, Context> CONTEXTS =
      Collections.synchronizedMap(
          new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Context> eldest) {
              return size() > MAX_CONTEXTS;
            }
          });

  private TaskTracing() {}

  /**
   * The tracer, or null while no SDK is installed (without installing the no-op globally, so one
   * can be set later).
   */
  static Tracer tracer() {
    TracerProvider provider = GlobalOpenTelemetry.getOrNoop().getTracerProvider();
    return provider == TracerProvider.noop() ? null : provider.get(SCOPE);
  }

  /**
   * Starts the span of a task whose body starts now, the child of the context its message carries;
   * null when tracing is off.
   */
  public static Span start(TaskMessage message, String hostname) {
    Tracer tracer = tracer();
    if (tracer == null) {
      return null;
    }
    Context parent = W3C.extract(Context.root(), message.headers(), HEADERS);
    Span span =
        tracer
            .spanBuilder("run/" + message.task())
            .setParent(parent)
            .setSpanKind(SpanKind.CONSUMER)
            .setAllAttributes(
                Attributes.of(
                    ACTION,
                    "run",
                    TASK_NAME,
                    message.task(),
                    MESSAGE_ID,
                    message.id(),
                    HOSTNAME,
                    hostname))
            .startSpan();
    CONTEXTS.put(message.id(), parent.with(span));
    return span;
  }

  /**
   * Ends a task's span with how it ended, as the Celery instrumentation's postrun/failure/retry
   * handlers do.
   */
  public static void end(Span span, TaskOutcome outcome) {
    if (span == null) {
      return;
    }
    span.setAttribute(STATE, outcome.state());
    ExceptionInfo error = outcome.error();
    switch (outcome.state()) {
      case States.FAILURE -> {
        String description = error == null ? "failed" : error.repr();
        span.setStatus(StatusCode.ERROR, description);
        if (error != null) {
          span.addEvent(
              "exception",
              Attributes.of(
                  AttributeKey.stringKey("exception.type"),
                  error.type(),
                  AttributeKey.stringKey("exception.message"),
                  description,
                  AttributeKey.stringKey("exception.stacktrace"),
                  String.valueOf(error.traceback())));
        }
      }
      case States.RETRY ->
          span.setAttribute(
              RETRY_REASON,
              error != null
                  ? error.repr()
                  : outcome.retry() != null
                      ? String.valueOf(outcome.retry().getMessage())
                      : "retry");
      case States.REVOKED ->
          span.setAttribute(
              REVOKED_REASON,
              error == null || error.args().isEmpty()
                  ? "revoked"
                  : String.valueOf(error.args().get(0)));
      default -> {}
    }
    span.end();
  }

  /** Ends the span of a task whose process died and whose message goes back to the queue. */
  public static void endRequeued(Span span) {
    if (span != null) {
      span.setAttribute(STATE, "REQUEUED");
      span.setStatus(StatusCode.ERROR, "worker lost; message requeued");
      span.end();
    }
  }

  /**
   * A message the worker publishes, with the trace context of the task it is published for: a task
   * message whose {@code parent_id} (a callback, chain step, chord body) or {@code id} (a retry)
   * names a task that ran here; a {@code traceparent} the message already had is replaced, as the
   * Celery instrumentation's inject does. Anything else, and everything while tracing is off, goes
   * out as it is.
   */
  public static OutgoingMessage propagate(OutgoingMessage m) {
    Map<String, Object> headers = m.headers();
    if (CONTEXTS.isEmpty() || headers == null || !(headers.get("task") instanceof String)) {
      return m;
    }
    Context context = headers.get("id") instanceof String id ? CONTEXTS.get(id) : null;
    if (context == null && headers.get("parent_id") instanceof String parent) {
      context = CONTEXTS.get(parent);
    }
    if (context == null) {
      return m;
    }
    Map<String, Object> traced = new LinkedHashMap<>(headers);
    W3C.inject(context, traced, (carrier, key, value) -> carrier.put(key, value));
    return new OutgoingMessage(
        m.exchange(),
        m.routingKey(),
        m.body(),
        m.contentType(),
        m.contentEncoding(),
        traced,
        m.properties());
  }

  /** Forgets the contexts kept (tests). */
  static void clear() {
    CONTEXTS.clear();
  }
}

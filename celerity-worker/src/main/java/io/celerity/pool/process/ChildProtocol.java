package io.celerity.pool.process;

import io.celerity.backend.EncodedState;
import io.celerity.backend.ResultDocuments;
import io.celerity.pool.Job;
import io.celerity.pool.Runner.Completion;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.IsoTime;
import io.celerity.protocol.PyRepr;
import io.celerity.protocol.States;
import io.celerity.task.Retry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The child protocol's messages about tasks (docs/process-pool.md): the {@code run} frame the
 * parent writes, and how a child's reply ({@code traced}, {@code result}, {@code error}, {@code
 * retry}) reports to the pool. Pure functions: the framing is {@link Frames}, the children's lives
 * are {@link ProcessRunner}'s.
 */
final class ChildProtocol {

  private ChildProtocol() {}

  /**
   * The {@code run} frame of a job: the message as Celery's Request holds it, and the job number
   * replies carry.
   */
  static Map<String, Object> runFrame(Job job, long number, boolean withHeaders) {
    var msg = job.request().message();
    var d = job.request().delivery();
    Map<String, Object> delivery = new LinkedHashMap<>();
    delivery.put("exchange", d.exchange());
    delivery.put("routing_key", d.routingKey());
    delivery.put("priority", d.priority());
    delivery.put("redelivered", d.redelivered());
    // Celery's Request: the headers, then properties, reply_to, correlation_id, hostname and
    // delivery_info; the child adds args, kwargs, the embed (callbacks, errbacks, chain, chord) and
    // is_eager as fast_trace_task does.
    Map<String, Object> properties = new LinkedHashMap<>();
    properties.put("correlation_id", d.correlationId());
    properties.put("reply_to", d.replyTo());
    properties.put("content_type", d.contentType());
    properties.put("content_encoding", d.contentEncoding());
    if (d.priority() != null) {
      properties.put("priority", d.priority());
    }
    Map<String, Object> request = new LinkedHashMap<>(msg.headers());
    request.put("properties", properties);
    request.put("reply_to", d.replyTo());
    request.put("correlation_id", d.correlationId());
    request.put("hostname", job.request().hostname());
    request.put("delivery_info", delivery);
    request.putIfAbsent("retries", msg.retries());
    Map<String, Object> embed = new LinkedHashMap<>();
    for (String k : List.of("callbacks", "errbacks", "chain", "chord")) {
      embed.put(k, msg.embed().get(k));
    }
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("type", "run");
    run.put("job", number);
    run.put("id", msg.id());
    run.put("task", msg.task());
    run.put("args", msg.args());
    run.put("kwargs", msg.kwargs());
    run.put("embed", embed);
    if (withHeaders) { // Java children read them; the Python runner has them in the request
      run.put("headers", msg.headers());
    }
    run.put("request", request);
    return run;
  }

  /**
   * How a reply reports: read whole before anything is let go, so a malformed reply throws first.
   */
  static Runnable outcome(Completion c, Map<String, Object> m) {
    return switch (String.valueOf(m.get("type"))) {
      case "traced" -> traced(c, m);
      case "result" -> () -> c.done(m.get("value"), null);
      case "error" -> {
        ExceptionInfo e = exception(m);
        yield () -> c.done(null, e);
      }
      default -> {
        Retry r = retryOf(m);
        ExceptionInfo e = exception(m);
        yield () -> c.retry(r, e);
      }
    };
  }

  /** A {@code traced} frame: Celery's tracer in the child stored the outcome itself. */
  @SuppressWarnings("unchecked")
  private static Runnable traced(Completion c, Map<String, Object> m) {
    String state = String.valueOf(m.get("state"));
    Double runtime = m.get("runtime") instanceof Number n ? n.doubleValue() : null;
    // the child's backend could not store the task's state: {state, exc_type, exc_module,
    // exc_message}
    ExceptionInfo notStored =
        m.get("not_stored") instanceof Map<?, ?> ns ? exception((Map<String, Object>) ns) : null;
    List<EncodedState> stores = stores(state, m.get("stores"));
    switch (state) {
      case States.SUCCESS -> {
        PyRepr.Repr value = new PyRepr.Repr(String.valueOf(m.get("repr")));
        return () -> c.traced(state, value, null, runtime, notStored, stores);
      }
      case States.RETRY -> {
        String message = String.valueOf(m.get("message"));
        ExceptionInfo e = exception(m);
        return () -> c.traced(state, message, e, runtime, notStored, stores);
      }
      case States.REJECTED -> {
        // Celery's Reject(reason, requeue): the worker settles from these two arguments
        ExceptionInfo e = exception(m);
        List<Object> args = new ArrayList<>();
        args.add(e.args().isEmpty() ? null : e.args().get(0));
        args.add(Boolean.TRUE.equals(m.get("requeue")));
        ExceptionInfo reject = new ExceptionInfo(e.type(), e.module(), args, e.traceback());
        return () -> c.traced(state, null, reject, runtime, notStored, stores);
      }
      default -> {
        ExceptionInfo e = exception(m);
        return () -> c.traced(state, null, e, runtime, notStored, stores);
      }
    }
  }

  /**
   * A {@code traced} frame's {@code stores}: {@code [[key, document, expires], ...]}, the states
   * the child's tracer handed over for the worker to write (handshake {@code defer_stores}).
   */
  private static List<EncodedState> stores(String state, Object v) {
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list)) {
      throw new IllegalArgumentException("stores is not a list: " + v);
    }
    List<EncodedState> out = new ArrayList<>(list.size());
    for (Object o : list) {
      if (!(o instanceof List<?> w)
          || w.size() != 3
          || !(w.get(0) instanceof String key)
          || !(w.get(1) instanceof String doc)
          || !(w.get(2) instanceof Number expires)) {
        throw new IllegalArgumentException("malformed store: " + o);
      }
      int at = key.lastIndexOf(ResultDocuments.KEY_PREFIX);
      String taskId = at < 0 ? key : key.substring(at + ResultDocuments.KEY_PREFIX.length());
      out.add(new EncodedState(taskId, state, key, doc, expires.longValue()));
    }
    return out;
  }

  /**
   * A {@code retry} frame: the copy runs at {@code eta}, else {@code countdown} seconds from now.
   */
  @SuppressWarnings("unchecked")
  private static Retry retryOf(Map<String, Object> m) {
    double countdown = m.get("countdown") instanceof Number n ? n.doubleValue() : 0;
    Instant eta =
        m.get("eta") != null
            ? IsoTime.parse(m.get("eta").toString())
            : Instant.now().plusNanos((long) (countdown * 1e9));
    return new Retry(
        null, eta, countdown, (List<Object>) m.get("args"), (Map<String, Object>) m.get("kwargs"));
  }

  @SuppressWarnings("unchecked")
  private static ExceptionInfo exception(Map<String, Object> m) {
    Object args = m.get("exc_message");
    return new ExceptionInfo(
        String.valueOf(m.get("exc_type")),
        m.get("exc_module") == null ? null : m.get("exc_module").toString(),
        args instanceof List<?> l ? (List<Object>) l : args == null ? List.of() : List.of(args),
        m.get("traceback") == null ? null : m.get("traceback").toString());
  }

  static long number(Object v, long otherwise) {
    return v instanceof Number n ? n.longValue() : otherwise;
  }
}

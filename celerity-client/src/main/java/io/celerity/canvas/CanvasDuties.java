package io.celerity.canvas;

import io.celerity.backend.ResultBackend;
import io.celerity.backend.TaskResult;
import io.celerity.protocol.ExceptionInfo;
import io.celerity.protocol.Json;
import io.celerity.protocol.States;
import io.celerity.protocol.TaskMessage;
import io.celerity.protocol.TaskMessages;
import io.celerity.task.Replace;
import io.celerity.task.TaskError;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Future;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The canvas duties of a worker after a task ended (docs/wire-protocol.md §5): link callbacks and
 * the next chain step after success, errbacks and failed chain members after failure, and the chord
 * join on the Redis backend. Event-loop confined (the result-reader's); everything it sends goes
 * through {@code publisher}, everything it stores through {@code store}.
 */
public final class CanvasDuties {

  private static final Logger log = LoggerFactory.getLogger("celery.canvas");

  private final ResultBackend backend;
  private final Function<OutgoingMessage, Future<Void>> publisher;
  private final Function<TaskResult, Future<Void>> store;
  private final String origin;
  private final String defaultQueue;

  /** Celery gives tasks a worker sends its own oid as reply_to unless the signature carries one. */
  private final String replyTo = UUID.randomUUID().toString();

  /**
   * @param origin {@code origin} header of the messages sent, Celery's {@code gen<pid>@<host>}
   * @param defaultQueue {@code task_default_queue}
   */
  public CanvasDuties(
      ResultBackend backend,
      Function<OutgoingMessage, Future<Void>> publisher,
      Function<TaskResult, Future<Void>> store,
      String origin,
      String defaultQueue) {
    this.backend = backend;
    this.publisher = publisher;
    this.store = store;
    this.origin = origin;
    this.defaultQueue = defaultQueue;
  }

  /** Why a task's canvas could not be applied; the task is then reported as failed with this. */
  public static final class CanvasError extends RuntimeException {
    private final transient ExceptionInfo info;

    CanvasError(ExceptionInfo info, Throwable cause) {
      super(info.repr(), cause);
      this.info = info;
    }

    public ExceptionInfo info() {
      return info;
    }
  }

  /**
   * Steps 1 and 2 of 5.1 (plus the built-in canvas tasks): sends link callbacks and the next chain
   * step with {@code retval}, before SUCCESS is stored. Nothing is sent when any signature in the
   * embed is malformed: the future then fails with a {@link CanvasError}.
   *
   * @return the result tuples of what was sent, for the {@code children} of the SUCCESS document
   */
  public Future<List<Object>> afterSuccess(
      TaskMessage m, Object retval, String exchange, String routingKey) {
    return afterSuccessOf(m, retval, exchange, routingKey).map(Success::children);
  }

  /**
   * What the worker stores after a success: the value (Celery's {@code prepare_value}: a returned
   * {@link CanvasResult} becomes its {@code as_tuple()}) and the children to list.
   */
  public record Success(Object value, List<Object> children) {}

  /**
   * {@link #afterSuccess}, plus a canvas the task returned as a {@link CanvasResult}: sent first
   * (Celery sends it inside the body), listed as the first child, and stored as its result tuple.
   */
  public Future<Success> afterSuccessOf(
      TaskMessage m, Object retval, String exchange, String routingKey) {
    Signature started;
    try {
      started = CanvasResult.in(retval);
    } catch (IllegalArgumentException e) {
      log.error(
          "Task {}[{}] returned a malformed canvas result, the task is marked failed: {}",
          m.task(),
          m.id(),
          e.getMessage());
      return Future.failedFuture(
          new CanvasError(
              ExceptionInfo.of(
                  ExceptionInfo.CELERY_EXCEPTIONS,
                  "InvalidTaskError",
                  "malformed canvas: " + e.getMessage()),
              e));
    }
    if (started == null) {
      return applyContained(m, retval, exchange, routingKey)
          .map(children -> new Success(retval, children));
    }
    Object tuple = CanvasResult.tupleOf(started, null);
    Future<Void> sent;
    try {
      Applier a = applier(m.id(), rootOf(m));
      a.apply(started, null, Map.of("parent_id", m.id(), "root_id", rootOf(m)));
      sent = send(a);
    } catch (RuntimeException e) {
      sent = Future.failedFuture(e);
    }
    return sent.recover(
            err -> {
              log.error(
                  "Task {}[{}]: the canvas it returned could not be sent, the task is marked failed: {}",
                  m.task(),
                  m.id(),
                  err.toString());
              return Future.failedFuture(new CanvasError(ExceptionInfo.from(err), err));
            })
        .compose(v -> applyContained(m, tuple, exchange, routingKey))
        .map(
            children -> {
              List<Object> all = new ArrayList<>();
              all.add(tuple);
              all.addAll(children);
              return new Success(tuple, all);
            });
  }

  /**
   * True when a success of {@code m} returning {@code retval} has no canvas duties at all: no
   * returned canvas, no callbacks, no next chain step, no built-in canvas task, no chord to count.
   * The result-reader then skips the futures of {@link #afterSuccessOf} and {@link #chordPart} (the
   * common case, measured at ~6% of a short task's event-loop time).
   */
  public static boolean noneAfterSuccess(TaskMessage m, Object retval) {
    if (retval instanceof Map<?, ?> r && r.size() == 1 && r.containsKey(CanvasResult.MARKER)) {
      return false;
    }
    Map<String, Object> embed = m.embed();
    return embed.get("callbacks") == null
        && embed.get("chain") == null
        && (embed.get("chord") == null || m.group() == null)
        && !m.task().startsWith("celery.");
  }

  private Future<List<Object>> applyContained(
      TaskMessage m, Object retval, String exchange, String routingKey) {
    try {
      return applyAfterSuccess(m, retval, exchange, routingKey);
    } catch (RuntimeException e) {
      // Celery's trace: an error while applying callbacks or the next step goes to on_error
      // (FAILURE)
      log.error(
          "Task {}[{}]: its callbacks or next chain step could not be sent, the task is marked failed",
          m.task(),
          m.id(),
          e);
      return Future.failedFuture(new CanvasError(ExceptionInfo.from(e), e));
    }
  }

  private Future<List<Object>> applyAfterSuccess(
      TaskMessage m, Object retval, String exchange, String routingKey) {
    if (Builtins.CHORD_UNLOCK.equals(m.task())) {
      return chordUnlock(m, exchange, routingKey).map(v -> List.of());
    }
    Map<String, Object> embed = m.embed();
    if (embed.get("callbacks") == null
        && embed.get("chain") == null
        && !m.task().startsWith("celery.")) {
      return Future.succeededFuture(List.of()); // the common case: no canvas at all
    }
    Applier a = applier(m.id(), rootOf(m));
    List<Object> children = new ArrayList<>();
    List<Object> prefix = Collections.singletonList(retval); // a task may return None
    Map<String, Object> call = new LinkedHashMap<>();
    call.put("parent_id", m.id());
    call.put("root_id", rootOf(m));
    try {
      Builtins.applyBuiltin(m, a, children);
      List<Signature> callbacks = Signature.listFrom(embed.get("callbacks"));
      if (callbacks.size() == 1) {
        children.add(a.apply(callbacks.get(0), prefix, call));
      } else if (!callbacks.isEmpty()) {
        // Celery: group callbacks each on their own, the plain ones together as one new group
        List<Signature> plain = new ArrayList<>();
        for (Signature cb : callbacks) {
          if (cb.isGroup()) {
            children.add(a.apply(cb, prefix, call));
          } else {
            plain.add(cb);
          }
        }
        if (!plain.isEmpty()) {
          children.add(a.apply(Canvas.group(plain), prefix, call));
        }
      }
      if (embed.get("chain") instanceof List<?> chain && !chain.isEmpty()) {
        Signature next = Signature.from(chain.get(chain.size() - 1));
        Map<String, Object> chainCall = new LinkedHashMap<>(call);
        chainCall.put("chain", new ArrayList<>(chain.subList(0, chain.size() - 1)));
        children.add(a.apply(next, prefix, chainCall));
      } else if (embed.get("chain") != null && !(embed.get("chain") instanceof List)) {
        throw new IllegalArgumentException("embed chain is not a list");
      }
    } catch (IllegalArgumentException | TaskError e) {
      log.error(
          "Task {}[{}]: malformed canvas in its message, nothing was sent and the task is marked failed: {}",
          m.task(),
          m.id(),
          e.getMessage());
      return Future.failedFuture(
          new CanvasError(
              ExceptionInfo.of(
                  ExceptionInfo.CELERY_EXCEPTIONS,
                  "InvalidTaskError",
                  "malformed canvas: " + e.getMessage()),
              e));
    }
    return send(a)
        .map(v -> children)
        .recover(
            err -> {
              log.error(
                  "Task {}[{}]: its callbacks or next chain step could not be published, the task is marked failed: {}",
                  m.task(),
                  m.id(),
                  err.toString());
              return Future.failedFuture(new CanvasError(ExceptionInfo.from(err), err));
            });
  }

  /**
   * True for the outcome of {@code ctx.replace(sig)} (Celery's Ignore): no result, no task-failed
   * event.
   */
  public static boolean isReplace(ExceptionInfo error) {
    return error != null && Replace.signatureOf(error.module(), error.type(), error.args()) != null;
  }

  /**
   * The replacement a task asked for with {@code ctx.replace(sig)} (encoded as Celery's Ignore), or
   * null.
   */
  public static Signature replacement(ExceptionInfo error) {
    if (error == null) {
      return null;
    }
    Map<String, Object> raw = Replace.signatureOf(error.module(), error.type(), error.args());
    return raw == null ? null : Signature.from(raw);
  }

  /**
   * Celery's {@code Task.replace}, after the body raised it: a group becomes a chord with {@code
   * celery.accumulate(index=0)} as body; the task's callbacks and errbacks are linked to the
   * replacement; the replacement takes the task's id (unless it has one), chord, group, group_index
   * and root_id; the task's remaining chain follows it. Fails when the replacement cannot be sent.
   */
  public Future<Void> replace(TaskMessage m, Signature sig) {
    try {
      Signature r =
          sig.isGroup()
              ? Canvas.chord(sig, Signature.of(Builtins.ACCUMULATE).withKwargs(Map.of("index", 0)))
              : sig;
      for (Signature cb : Signature.listFrom(m.embed().get("callbacks"))) {
        r = r.link(cb);
      }
      for (Signature eb : Signature.listFrom(m.embed().get("errbacks"))) {
        r = r.linkError(eb);
      }
      r = Canvas.withResultId(r, m.id());
      // (Celery also sets replaced_task_nesting; as_task_v2 does not put it on the wire)
      r =
          r.set("chord", m.embed().get("chord"))
              .set("group_id", m.group())
              .set("group_index", m.groupIndex())
              .set("root_id", rootOf(m));
      if (m.embed().get("chain") instanceof List<?> chain && !chain.isEmpty()) {
        List<Signature> steps = new ArrayList<>();
        steps.add(r);
        for (int i = chain.size() - 1; i >= 0; i--) {
          steps.add(Signature.from(chain.get(i)));
        }
        r = Canvas.chain(steps);
      }
      Applier a = applier(m.id(), rootOf(m));
      a.apply(r, null, Map.of());
      return send(a);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * After a FAILURE was stored (5.2): chord bookkeeping, FAILURE for every chain member still
   * waiting (so the chain's result does not stay PENDING), then the errbacks, sent as one new group
   * with {@code [task_id]} (a JVM worker cannot call Python errbacks in-process).
   */
  public Future<Void> afterFailure(TaskMessage m, ExceptionInfo exc) {
    return contained(m, "failure", () -> failureDuties(m, exc));
  }

  /**
   * Runs a duty that must never fail its caller: any error is logged with the task id and
   * swallowed.
   */
  private static Future<Void> contained(
      TaskMessage m, String what, java.util.function.Supplier<Future<Void>> duty) {
    Future<Void> f;
    try {
      f = duty.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    return f.recover(
        err -> {
          log.error(
              "Task {}[{}]: canvas duties after {} failed: {}",
              m.task(),
              m.id(),
              what,
              err.toString(),
              err);
          return Future.succeededFuture();
        });
  }

  private Future<Void> failureDuties(TaskMessage m, ExceptionInfo exc) {
    return chordPart(m, States.FAILURE, exc.toResult())
        .compose(
            v -> {
              List<Future<Void>> writes = new ArrayList<>();
              if (m.embed().get("chain") instanceof List<?> chain) {
                for (Object raw : chain) {
                  if (raw instanceof Map<?, ?> sig
                      && sig.get("options") instanceof Map<?, ?> o
                      && o.get("task_id") != null) {
                    writes.add(
                        store.apply(
                            TaskResult.builder(o.get("task_id").toString(), States.FAILURE)
                                .result(exc.toResult())
                                .traceback(exc.traceback())
                                .dateDone(Instant.now())
                                .groupId((String) str(o.get("group_id")))
                                .replyTo(
                                    (String) str(o.get("reply_to")), o.get("task_id").toString())
                                .build()));
                  }
                }
              }
              return Future.join(writes).<Void>mapEmpty().recover(err -> Future.succeededFuture());
            })
        .compose(
            v ->
                errbacks(
                    m.embed().get("errbacks"),
                    m.id(),
                    rootOf(m),
                    "task " + m.task() + "[" + m.id() + "]"));
  }

  /** After REVOKED was stored: a revoked chord member still counts (Celery's mark_as_revoked). */
  public Future<Void> afterRevoked(TaskMessage m, ExceptionInfo exc) {
    return contained(m, "revocation", () -> chordPart(m, States.REVOKED, exc.toResult()));
  }

  /**
   * Chord bookkeeping for a finished header member (5.6): record its result, and if it is the last
   * one, join and send the body, or fail the body with ChordError. Never fails: problems are
   * logged.
   */
  public Future<Void> chordPart(TaskMessage m, String state, Object encodedResult) {
    return contained(m, "chord bookkeeping", () -> recordChordPart(m, state, encodedResult));
  }

  private Future<Void> recordChordPart(TaskMessage m, String state, Object encodedResult) {
    Object raw = m.embed().get("chord");
    String gid = m.group();
    if (raw == null || gid == null) {
      return Future.succeededFuture();
    }
    Signature body;
    try {
      body = Signature.from(raw);
    } catch (IllegalArgumentException e) {
      log.error(
          "Task {}[{}]: malformed chord body in its message, chord {} cannot complete: {}",
          m.task(),
          m.id(),
          gid,
          e.getMessage());
      return Future.succeededFuture();
    }
    if (!backend.supportsChords()) {
      log.error(
          "Task {}[{}] is part of chord {}, but the result backend cannot join chords (use redis://)",
          m.task(),
          m.id(),
          gid);
      return Future.succeededFuture();
    }
    String entry = Json.encodeToString(Arrays.asList(1, m.id(), state, encodedResult));
    Integer index = m.groupIndex() instanceof Number n ? n.intValue() : null;
    return backend
        .addChordPart(gid, index, entry)
        .compose(count -> count.completes() ? join(gid, body, m) : Future.succeededFuture())
        .recover(
            err -> {
              log.error(
                  "Chord {} (task {}[{}]) could not be joined: {}",
                  gid,
                  m.task(),
                  m.id(),
                  err.toString());
              return Future.succeededFuture();
            });
  }

  private Future<Void> join(String gid, Signature body, TaskMessage last) {
    Future<List<Object>> values =
        backend
            .savedGroup(gid)
            .compose(
                saved ->
                    saved != null
                        ? ChordJoin.joinSaved(backend, saved)
                        : backend.chordParts(gid).map(ChordJoin::decode));
    return values.transform(
        ar -> {
          if (ar.failed()) {
            ExceptionInfo why =
                ar.cause() instanceof ChordJoin.DependencyFailed d
                    ? d.info()
                    : ExceptionInfo.of(
                        ExceptionInfo.CELERY_EXCEPTIONS, "ChordError", "Join error: " + ar.cause());
            log.error("Chord {} raised: {}", gid, why.repr());
            return chordError(body, why); // the keys are left to expire, as Celery does
          }
          Applier a = applier(last.id(), rootOf(last));
          a.apply(body, List.of(ar.result()), Map.of());
          return send(a)
              .transform(
                  sent -> {
                    Future<Void> failed = Future.succeededFuture();
                    if (sent.failed()) {
                      log.error("Chord callback for {} raised: {}", gid, sent.cause().toString());
                      failed =
                          chordError(
                              body,
                              ExceptionInfo.of(
                                  ExceptionInfo.CELERY_EXCEPTIONS,
                                  "ChordError",
                                  "Callback error: " + sent.cause()));
                    }
                    return failed.compose(v -> backend.deleteChord(gid));
                  });
        });
  }

  /**
   * {@code celery.chord_unlock} (backends without native chord join): when every header result is
   * final, join and send the body (or fail it with ChordError); otherwise publish the retry copy
   * due after {@code interval}, forever (Celery's max_retries=None).
   */
  private Future<Void> chordUnlock(TaskMessage m, String exchange, String routingKey) {
    Builtins.Unlock u;
    try {
      u = Builtins.unlockArgs(m.args(), m.kwargs());
    } catch (IllegalArgumentException | TaskError e) {
      log.error(
          "celery.chord_unlock[{}] has malformed arguments and was dropped: {}",
          m.id(),
          e.getMessage());
      return Future.succeededFuture();
    }
    return ChordJoin.joinSaved(
            backend, Arrays.asList(Arrays.asList(u.groupId(), null), u.results()))
        .transform(
            ar -> {
              if (ar.succeeded()) {
                Applier a = applier(m.id(), rootOf(m));
                a.apply(u.body(), List.of(ar.result()), Map.of());
                return send(a)
                    .recover(
                        err ->
                            chordError(
                                u.body(),
                                ExceptionInfo.of(
                                    ExceptionInfo.CELERY_EXCEPTIONS,
                                    "ChordError",
                                    "Callback error: " + err)));
              }
              if (ar.cause() instanceof ChordJoin.DependencyFailed d) {
                log.error("Chord {} raised: {}", u.groupId(), d.info().repr());
                return chordError(u.body(), d.info());
              }
              Instant due = Instant.now().plusMillis((long) (u.interval() * 1000));
              return publisher
                  .apply(TaskMessages.retryOf(m, exchange, routingKey, due, null, null, origin))
                  .onFailure(
                      err ->
                          log.error(
                              "celery.chord_unlock[{}] could not be retried: {}",
                              m.id(),
                              err.toString()))
                  .recover(err -> Future.succeededFuture());
            });
  }

  /** Celery's chord_error_from_stack: the body's errbacks, then FAILURE stored on the body. */
  Future<Void> chordError(Signature body, ExceptionInfo error) {
    String bodyId = body.id();
    ExceptionInfo withTb =
        new ExceptionInfo(
            error.type(),
            error.module(),
            error.args(),
            "celery.exceptions."
                + error.type()
                + ": "
                + (error.args().isEmpty() ? "" : error.args().get(0))
                + "\n");
    Future<Void> errbacks =
        errbacks(body.options().get("link_error"), bodyId, bodyId, "chord body " + body.task());
    if (bodyId == null) {
      return errbacks;
    }
    return errbacks
        .compose(
            v ->
                store.apply(
                    TaskResult.builder(bodyId, States.FAILURE)
                        .result(withTb.toResult())
                        .traceback(withTb.traceback())
                        .dateDone(Instant.now())
                        .groupId(str(body.options().get("group_id")))
                        .replyTo(str(body.options().get("reply_to")), bodyId)
                        .build()))
        .recover(err -> Future.succeededFuture());
  }

  /** Old-style errbacks: one new group, each with {@code [failed_id]}, parent = the failed task. */
  private Future<Void> errbacks(Object raw, String failedId, String rootId, String what) {
    if (raw == null) {
      return Future.succeededFuture();
    }
    List<Signature> errbacks;
    try {
      errbacks = Signature.listFrom(raw);
    } catch (IllegalArgumentException e) {
      log.error("Errbacks of {} are malformed and were not sent: {}", what, e.getMessage());
      return Future.succeededFuture();
    }
    if (errbacks.isEmpty()) {
      return Future.succeededFuture();
    }
    Applier a = applier(failedId, rootId);
    Map<String, Object> call = new LinkedHashMap<>();
    call.put("parent_id", failedId);
    call.put("root_id", rootId == null ? failedId : rootId);
    a.apply(Canvas.group(errbacks), List.of(failedId), call);
    return send(a)
        .recover(
            err -> {
              log.error("Errbacks of {} could not be sent: {}", what, err.toString());
              return Future.succeededFuture();
            });
  }

  /** Chord sizes first (a member finishing early must find it), then every message. */
  Future<Void> send(Applier a) {
    List<Future<Void>> sizes = new ArrayList<>();
    a.chordSizes().forEach((gid, n) -> sizes.add(backend.setChordSize(gid, n)));
    return Future.all(sizes)
        .compose(
            v -> {
              List<Future<Void>> sent = new ArrayList<>(a.messages().size());
              for (OutgoingMessage msg : a.messages()) {
                sent.add(publisher.apply(msg));
              }
              return Future.all(sent);
            })
        .mapEmpty();
  }

  /** Sends a launch built elsewhere (a Java task's canvas): sizes first, then the messages. */
  public Future<Void> send(Launch launch) {
    Applier a = applier(null, null);
    a.chordSizes().putAll(launch.chordSizes());
    a.messages().addAll(launch.messages());
    return send(a);
  }

  Applier applier(String parentId, String rootId) {
    return new Applier(origin, defaultQueue, replyTo, parentId, rootId);
  }

  private static String rootOf(TaskMessage m) {
    return m.rootId() != null ? m.rootId() : m.id();
  }

  private static String str(Object o) {
    return o == null ? null : o.toString();
  }

  /** Parses a JSON text the backend gave back. */
  static Object parse(String text) {
    try {
      return Json.parse(text);
    } catch (IOException e) {
      throw new IllegalStateException("not JSON: " + Signature.abbreviate(text), e);
    }
  }
}

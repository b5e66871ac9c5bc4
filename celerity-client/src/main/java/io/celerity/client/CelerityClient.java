package io.celerity.client;

import io.celerity.canvas.Launch;
import io.celerity.canvas.Signature;
import io.celerity.config.Urls;
import io.celerity.protocol.TaskMessages;
import io.celerity.transport.Transport;
import io.celerity.transport.TransportOptions;
import io.celerity.transport.Transports;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A Celery producer for the JVM: sends tasks and canvases exactly as Celery 5's Python client does
 * (protocol v2, kombu's AMQP and Redis formats), so Celery's own workers, Celerity workers, Flower
 * and {@code celery events} see no difference, and waits for their results on Celery's Redis
 * backend (pub/sub) or on an {@code rpc://} reply queue.
 *
 * <pre>{@code
 * try (CelerityClient celery = CelerityClient.connect(ClientOptions.of("amqp://localhost", "redis://localhost/0"))) {
 *   AsyncResult r = celery.send("tasks.add", List.of(2, 2), Map.of(), SendOptions.with().countdown(1));
 *   Object four = r.get(Duration.ofSeconds(10));
 * }
 * }</pre>
 *
 * <p>Thread-safe. Every broker and backend operation runs on one Vert.x context of the client's;
 * the methods returning {@code Future}s never block, the others block the calling thread and refuse
 * to run on a Vert.x event loop. AMQP publishes complete when the broker confirmed them.
 */
public final class CelerityClient implements AutoCloseable {

  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration CONNECT_TIMEOUT = Duration.ofMinutes(2);

  /** Start-up connection attempts (kombu's default publish retry policy tries 3 times). */
  private static final int CONNECT_RETRIES = 3;

  private final ClientOptions options;
  private final Vertx vertx;
  private final boolean ownsVertx;
  private final Context context;
  private final Transport transport;
  private final ResultSource results;

  /**
   * Celery's {@code app.thread_oid}: the {@code reply_to} of every task sent, the rpc:// queue
   * name.
   */
  private final String oid = UUID.randomUUID().toString();

  private final String origin = Origin.NAME;

  /** Queues declared on this connection (context-confined). */
  private final Set<String> declared = new HashSet<>();

  private final AtomicLong clock = new AtomicLong();
  private volatile boolean closed;

  private CelerityClient(ClientOptions options, Vertx vertx, boolean ownsVertx, Context context) {
    this.options = options;
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.context = context;
    this.transport =
        Transports.create(
            vertx,
            new TransportOptions(
                options.broker(),
                List.of(),
                0,
                options.queueMaxPriority(),
                30_000,
                "celerity-client " + origin,
                options.transportOptions(),
                true,
                CONNECT_RETRIES));
    this.results = resultSource(options);
  }

  private ResultSource resultSource(ClientOptions o) {
    String url = o.resultBackend();
    if (url == null || url.isBlank() || url.equals("disabled") || url.equals("none")) {
      return new NoResults();
    }
    String scheme = Urls.scheme(url);
    return switch (scheme == null ? "" : scheme) {
      case "redis", "rediss" -> new RedisResults(vertx, url, o.resultExpires());
      case "rpc" -> new RpcResults(transport, o.broker(), oid, o.resultExpires());
      default ->
          throw new IllegalArgumentException(
              "unsupported result backend '"
                  + url
                  + "' for the client (supported: redis://, rediss://, rpc://, disabled)");
    };
  }

  /** Connects and waits until the client can send (the reply queue, if any, declared). */
  public static CelerityClient connect(ClientOptions options) {
    Blocking.refuseOnEventLoop("CelerityClient.connect()");
    return Blocking.awaitOrFail(start(options), CONNECT_TIMEOUT, "CelerityClient.connect()");
  }

  /** Shorthand for {@code connect(ClientOptions.of(broker, resultBackend))}. */
  public static CelerityClient connect(String broker, String resultBackend) {
    return connect(ClientOptions.of(broker, resultBackend));
  }

  /**
   * Connects without blocking. On a Vert.x context (a verticle), the client runs on that context;
   * elsewhere on a new one of {@link ClientOptions#vertx()} or of a Vert.x instance of its own.
   */
  public static Future<CelerityClient> start(ClientOptions options) {
    boolean owns = options.vertx() == null;
    Vertx vertx = owns ? Vertx.vertx() : options.vertx();
    Context ctx = vertx.getOrCreateContext();
    CelerityClient c;
    try {
      c = new CelerityClient(options, vertx, owns, ctx);
    } catch (RuntimeException e) {
      if (owns) {
        vertx.close();
      }
      return Future.failedFuture(e);
    }
    return c.onContext(() -> c.transport.start(c::onDelivery).compose(v -> c.results.start()))
        .map(v -> c)
        .recover(err -> c.closeAsync().transform(x -> Future.failedFuture(err)));
  }

  private void onDelivery(Delivery d) {
    if (results instanceof RpcResults rpc) {
      rpc.onReply(d);
    }
  }

  // ---- sending ----

  /**
   * Celery's {@code app.send_task(name, args, kwargs, **options)}: publishes one task message and,
   * on RabbitMQ, waits for the broker's confirm.
   *
   * @param args positional arguments (JSON-serialisable values: numbers, strings, lists, maps,
   *     records, ...)
   * @param kwargs keyword arguments
   * @param options execution options; null for none
   */
  public AsyncResult send(String name, List<?> args, Map<String, ?> kwargs, SendOptions options) {
    return Blocking.awaitOrFail(
        sendAsync(name, args, kwargs, options), SEND_TIMEOUT, "CelerityClient.send()");
  }

  /** {@code send_task(name, args)} with no keyword arguments and no options. */
  public AsyncResult send(String name, Object... args) {
    return send(name, Arrays.asList(args), Map.of(), null);
  }

  /**
   * {@link #send(String, List, Map, SendOptions)} without blocking: completes once the broker has
   * the message.
   */
  public Future<AsyncResult> sendAsync(
      String name, List<?> args, Map<String, ?> kwargs, SendOptions options) {
    OutgoingMessage m;
    try {
      m = message(name, args, kwargs, options);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    String id = TaskMessages.id(m);
    return onContext(() -> publish(m)).map(v -> new AsyncResult(this, id));
  }

  OutgoingMessage message(
      String name, List<?> args, Map<String, ?> kwargs, SendOptions sendOptions) {
    return ClientMessages.task(
        name, args, kwargs, sendOptions, oid, origin, options.defaultQueue());
  }

  /**
   * Celery's {@code sig.delay()}: sends a task, chain or chord; its result is the last task's (a
   * chord's body).
   */
  public AsyncResult delay(Signature sig) {
    return applyAsync(sig, null);
  }

  /**
   * Celery's {@code sig.apply_async(**options)}; a signature whose result is a group goes to {@link
   * #applyGroup}.
   */
  public AsyncResult applyAsync(Signature sig, SendOptions options) {
    return Blocking.awaitOrFail(
        applyAsyncFuture(sig, options), SEND_TIMEOUT, "CelerityClient.applyAsync()");
  }

  public Future<AsyncResult> applyAsyncFuture(Signature sig, SendOptions options) {
    Launch l;
    try {
      l = launch(sig, options);
      if (isGroupTuple(l.resultTuple())) {
        throw new IllegalArgumentException(
            "the result of " + sig + " is a group: send it with applyGroup()");
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return onContext(() -> send(l)).map(v -> new AsyncResult(this, l.id()));
  }

  /**
   * Celery's {@code group(...).apply_async()} (or a chain ending in a group): one result per
   * member.
   */
  public GroupResult applyGroup(Signature group, SendOptions options) {
    return Blocking.awaitOrFail(
        applyGroupFuture(group, options), SEND_TIMEOUT, "CelerityClient.applyGroup()");
  }

  public GroupResult applyGroup(Signature group) {
    return applyGroup(group, null);
  }

  public Future<GroupResult> applyGroupFuture(Signature group, SendOptions options) {
    Launch l;
    try {
      l = launch(group, options);
      if (!isGroupTuple(l.resultTuple())) {
        throw new IllegalArgumentException(
            "the result of " + group + " is not a group: send it with applyAsync()");
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    List<AsyncResult> members = new ArrayList<>();
    for (Object member : (List<?>) ((List<?>) l.resultTuple()).get(1)) {
      members.add(new AsyncResult(this, tupleId(member)));
    }
    return onContext(() -> send(l)).map(v -> new GroupResult(this, l.id(), members));
  }

  private Launch launch(Signature sig, SendOptions sendOptions) {
    return ClientMessages.launch(sig, sendOptions, oid, origin, options.defaultQueue());
  }

  /** A result tuple {@code [[id, parent], members]}: a group when {@code members} is a list. */
  private static boolean isGroupTuple(Object tuple) {
    return tuple instanceof List<?> t && t.size() == 2 && t.get(1) instanceof List;
  }

  private static String tupleId(Object tuple) {
    return String.valueOf(((List<?>) ((List<?>) tuple).get(0)).get(0));
  }

  /**
   * Chord sizes first (a header task finishing early must find its chord's size), then the
   * messages.
   */
  private Future<Void> send(Launch l) {
    List<Future<Void>> sizes = new ArrayList<>();
    l.chordSizes().forEach((gid, n) -> sizes.add(results.setChordSize(gid, n)));
    return Future.all(sizes)
        .compose(
            v -> {
              List<Future<Void>> sent = new ArrayList<>(l.messages().size());
              l.messages().forEach(m -> sent.add(publish(m)));
              return Future.all(sent);
            })
        .mapEmpty();
  }

  /**
   * Publishes on the client's context. A message routed by queue name is preceded by the queue's
   * declaration (once per client), as Celery's {@code declare=[queue]}: RabbitMQ drops a message
   * routed to a queue that does not exist, and still confirms it.
   */
  private Future<Void> publish(OutgoingMessage m) {
    boolean byQueue = (m.exchange() == null || m.exchange().isEmpty()) && m.routingKey() != null;
    if (byQueue && !declared.contains(m.routingKey())) {
      String q = m.routingKey();
      return transport
          .declareQueue(q)
          .compose(
              v -> {
                declared.add(q);
                return transport.publish(m);
              });
    }
    return transport.publish(m);
  }

  // ---- results ----

  /** The handle of a task sent earlier (by anyone) with this id. */
  public AsyncResult result(String taskId) {
    return new AsyncResult(this, taskId);
  }

  /** A group's handle from its member ids. */
  public GroupResult groupResult(String groupId, List<String> taskIds) {
    return new GroupResult(this, groupId, taskIds.stream().map(this::result).toList());
  }

  Future<Map<String, Object>> whenReady(String id, Duration timeout) {
    return onContext(
        () -> {
          Promise<Map<String, Object>> p = Promise.promise();
          results.await(id, p);
          if (timeout != null && !p.future().isComplete()) {
            long timer =
                vertx.setTimer(
                    Math.max(1, timeout.toMillis()),
                    t -> {
                      if (p.tryFail(new ResultTimeoutException(id, timeout))) {
                        results.forget(id, p);
                      }
                    });
            p.future().onComplete(ar -> vertx.cancelTimer(timer));
          }
          return p.future();
        });
  }

  Future<Map<String, Object>> currentState(String id) {
    return onContext(() -> results.current(id));
  }

  /** Celery's {@code app.control.revoke(ids, terminate=..., signal=...)}: a broadcast, no reply. */
  public Future<Void> revokeAsync(List<String> ids, boolean terminate, String signal) {
    OutgoingMessage m =
        ControlMessages.revoke(
            ids, terminate, signal, clock.incrementAndGet(), System.currentTimeMillis() / 1000.0);
    return onContext(() -> publish(m));
  }

  // ---- lifecycle ----

  /** Runs {@code work} on the client's context and hands its outcome to the caller's thread. */
  private <T> Future<T> onContext(Supplier<Future<T>> work) {
    if (closed) { // (closeAsync runs its own work on the context)
      return Future.failedFuture(new IllegalStateException("client closed"));
    }
    if (Vertx.currentContext() == context) {
      return call(work);
    }
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> call(work).onComplete(p));
    return p.future();
  }

  private static <T> Future<T> call(Supplier<Future<T>> work) {
    try {
      return work.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** The {@code reply_to} of every task this client sends (Celery's {@code app.thread_oid}). */
  public String oid() {
    return oid;
  }

  /**
   * The {@code origin} header of every task this client sends, Celery's {@code gen<pid>@<host>}.
   */
  public String origin() {
    return origin;
  }

  public Future<Void> closeAsync() {
    if (closed) {
      return Future.succeededFuture();
    }
    Future<Void> f =
        onContext(() -> results.close().transform(ar -> transport.close()))
            .recover(err -> Future.succeededFuture());
    closed = true;
    return ownsVertx ? f.transform(ar -> vertx.close()) : f;
  }

  /** Closes the connections (and the client's own Vert.x); waits on a thread that may block. */
  @Override
  public void close() {
    Future<Void> f = closeAsync();
    if (!Context.isOnEventLoopThread()) {
      Blocking.awaitOrFail(
          f.recover(err -> Future.succeededFuture()),
          Duration.ofSeconds(30),
          "CelerityClient.close()");
    }
  }

  /** No result backend: results cannot be waited for. */
  private static final class NoResults implements ResultSource {
    @Override
    public Future<Void> start() {
      return Future.succeededFuture();
    }

    @Override
    public void await(String taskId, Promise<Map<String, Object>> ready) {
      ready.tryFail(
          new IllegalStateException("no result backend configured: results cannot be retrieved"));
    }

    @Override
    public void forget(String taskId, Promise<Map<String, Object>> ready) {}

    @Override
    public Future<Map<String, Object>> current(String taskId) {
      return Future.succeededFuture(null);
    }

    @Override
    public Future<Void> setChordSize(String groupId, int size) {
      return Future.failedFuture(
          new UnsupportedOperationException("chords need a result backend (redis://)"));
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }
  }
}

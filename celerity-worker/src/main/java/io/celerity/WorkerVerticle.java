package io.celerity;

import io.celerity.config.WorkerOptions;
import io.celerity.consumer.ConsumerVerticle;
import io.celerity.control.ControlVerticle;
import io.celerity.heartbeat.HeartbeatVerticle;
import io.celerity.pool.PoolDispatcherVerticle;
import io.celerity.result.ResultReaderVerticle;
import io.celerity.task.TaskRegistry;
import io.celerity.types.OutgoingMessage;
import io.celerity.types.Request;
import io.celerity.types.Settle;
import io.celerity.types.TaskOutcome;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker: deploys the five verticles (result-reader, pool-dispatcher, consumer, heartbeat,
 * control) with the same configuration and runs the shutdown sequence. Deployable on its own with
 * the Vert.x launcher: {@code -conf conf/worker.json}.
 */
public class WorkerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger("celery.worker");

  private final TaskRegistry registry;
  private final List<String> deployments = new ArrayList<>();
  private String consumerDeployment;
  private ControlVerticle control;
  private WorkerOptions options;
  private Future<Void> shutdown;

  public WorkerVerticle() {
    this(null);
  }

  /**
   * A worker running the tasks of {@code registry}; null builds the registry from the
   * configuration.
   */
  public WorkerVerticle(TaskRegistry registry) {
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    options = new WorkerOptions(config());
    TaskRegistry tasks = registry != null ? registry : buildRegistry(options);
    EventBus bus = vertx.eventBus();
    // -E: before any verticle runs, so the first task-received is not missed.
    WorkerServices services =
        new WorkerServices(
            tasks,
            io.celerity.events.TaskEvents.of(vertx),
            io.celerity.metrics.WorkerMetrics.of(vertx));
    services.events().hostname(options.getHostname()).enabled(options.isTaskEvents());
    for (Class<?> c :
        List.of(
            Request.class,
            Request.Batch.class,
            TaskOutcome.Batch.class,
            Settle.class,
            Settle.Batch.class,
            TaskOutcome.class,
            OutgoingMessage.class,
            io.celerity.types.Delivery.class,
            io.celerity.transport.FanoutSubscription.class,
            io.celerity.types.ConsumerStats.class,
            io.celerity.types.PoolStats.class,
            io.celerity.types.ResultStats.class,
            io.celerity.types.ResultHealth.class,
            io.celerity.types.HeartbeatStatus.class,
            io.celerity.types.ControlRequests.Revoke.class,
            io.celerity.types.ControlRequests.RateLimit.class,
            io.celerity.types.ControlRequests.PoolResize.class,
            io.celerity.types.ControlRequests.Autoscale.class,
            io.celerity.types.ControlRequests.PoolRequests.class,
            io.celerity.types.ControlRequests.Scheduled.class,
            io.celerity.canvas.Launch.class)) {
      LocalCodec.register(bus, c);
    }
    bus.<Boolean>consumer(
        Addresses.WORKER_SHUTDOWN,
        m -> shutdown(Boolean.TRUE.equals(m.body())).onComplete(ar -> m.reply(null)));
    DeploymentOptions d = new DeploymentOptions().setConfig(config());
    control = new ControlVerticle(services);
    ConsumerVerticle consumer = new ConsumerVerticle(services);
    ResultReaderVerticle results = new ResultReaderVerticle(services);
    // -P process: the parent only moves messages between the broker and the children, and the
    // hand-offs between its verticles are most of its work (a wake-up of another loop per task);
    // on one loop they are plain calls. 70 µs less CPU per Python task (docs/process-pool.md).
    // -P solo: one pool thread is the limit, not the loops, so the second loop only added a
    // wake-up to each round trip (p50 0.05-0.1 ms lower on one loop, drain rate the same).
    boolean oneLoop = "process".equals(options.getPool()) || "solo".equals(options.getPool());
    return deploy(results, d)
        .compose(
            v -> {
              if (oneLoop) {
                onto(results.eventLoop());
              }
              return deploy(new PoolDispatcherVerticle(services), d);
            })
        .compose(
            v -> {
              if (oneLoop) {
                onto(results.eventLoop());
              } else {
                awayFrom(results.eventLoop());
              }
              return vertx
                  .deployVerticle(consumer, d)
                  .map(
                      id -> {
                        consumerDeployment = id;
                        deployments.add(id);
                        return id;
                      });
            })
        .compose(v -> deploy(new HeartbeatVerticle(services), d))
        .compose(v -> deploy(control, d))
        .onSuccess(
            v -> Banner.print(options, tasks, control.actualPort(), control.generatedHttpToken()))
        // The broker may still be unreachable (the transport retries, /ready says so): ready once
        // connected.
        .compose(v -> consumer.connected())
        .onSuccess(v -> log.info("{} ready.", options.getHostname())); // Celery's readiness line
  }

  /**
   * Makes the next verticle deployed land on another event loop than {@code loop} (Vert.x hands
   * loops out in turn): the consumer and the result-reader are the two busiest verticles per task,
   * and on one loop they share one core while the others idle (at 1000 async tasks in flight that
   * loop was the worker's bottleneck). No-op with a single loop.
   */
  private void awayFrom(io.netty.channel.EventLoop loop) {
    if (loopCount() >= 2) {
      skipPast(loop); // the next one handed out is another loop
    }
  }

  /** Makes the next verticle deployed land on {@code loop} (Vert.x hands loops out in turn). */
  private void onto(io.netty.channel.EventLoop loop) {
    skipPast(loop);
    int others = loopCount() - 1;
    for (int i = 0; i < others; i++) {
      vertxInternal().createEventLoopContext(); // the next one handed out is loop again
    }
  }

  /**
   * Takes event-loop contexts until the one just handed out ran on {@code loop} (one round at
   * most).
   */
  private void skipPast(io.netty.channel.EventLoop loop) {
    int n = loopCount();
    for (int i = 0; i < n; i++) {
      if (vertxInternal().createEventLoopContext().nettyEventLoop() == loop) {
        return;
      }
    }
  }

  /** The Vert.x instance's loops (an embedding one may have more than event_loops). */
  private int loopCount() {
    int n = 0;
    for (var ignored : vertxInternal().nettyEventLoopGroup()) {
      n++;
    }
    return n;
  }

  private io.vertx.core.internal.VertxInternal vertxInternal() {
    return (io.vertx.core.internal.VertxInternal) vertx;
  }

  private Future<String> deploy(VerticleBase verticle, DeploymentOptions d) {
    return vertx.deployVerticle(verticle, d).onSuccess(deployments::add);
  }

  /**
   * Builds the task registry: example tasks (unless disabled), {@code -A} classes, then
   * ServiceLoader modules.
   */
  public static TaskRegistry buildRegistry(WorkerOptions options) {
    TaskRegistry r = new TaskRegistry();
    new io.celerity.canvas.Builtins()
        .register(r); // celery.* names a message may carry (docs/wire-protocol.md §5.5)
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    if (options.isLoadExamples()) {
      r.loadApp(io.celerity.examples.ExampleTasks.class.getName(), cl);
    }
    for (String app : options.getApps()) {
      r.loadApp(app, cl);
    }
    // a jar may list the examples as a service (older celerity jars did): --without-examples still
    // wins
    r.loadServiceModules(
        cl, type -> options.isLoadExamples() || type != io.celerity.examples.ExampleTasks.class);
    return r;
  }

  /** Port of the HTTP bridge, once started. */
  public int httpPort() {
    return control == null ? -1 : control.actualPort();
  }

  /** Bearer token of the HTTP bridge (configured, or generated by this run), once started. */
  public String httpToken() {
    return control == null ? null : control.httpToken();
  }

  /**
   * Warm shutdown: stop consuming, hand queued requests back to the broker, let running tasks
   * finish (bounded by {@code shutdown_timeout}), store their results, settle their messages and
   * close the connection. Cold shutdown skips the waiting: what is unacked is requeued by the
   * broker.
   */
  public Future<Void> shutdown(boolean warm) {
    if (shutdown != null) {
      return shutdown;
    }
    log.info("{} shutdown (MainProcess)", warm ? "worker: Warm" : "worker: Cold");
    EventBus bus = vertx.eventBus();
    double timeout = warm ? options.getShutdownTimeout() : 0;
    DeliveryOptions longWait =
        new DeliveryOptions().setSendTimeout((long) (timeout * 1000) + 15_000);
    shutdown =
        bus.request(Addresses.CONSUMER_STOP, null)
            .recover(this::ignore)
            .compose(v -> bus.request(Addresses.POOL_DRAIN, timeout, longWait))
            .recover(this::ignore)
            .compose(v -> bus.request(Addresses.RESULT_FLUSH, null, longWait))
            .recover(this::ignore)
            // worker-offline needs the consumer's connection, which is closed next
            .compose(v -> bus.request(Addresses.HEARTBEAT_SEND, "worker-offline"))
            .recover(this::ignore)
            .compose(
                v ->
                    consumerDeployment == null
                        ? Future.succeededFuture()
                        : vertx
                            .undeploy(consumerDeployment)
                            .onSuccess(x -> deployments.remove(consumerDeployment)))
            .recover(this::ignore)
            .mapEmpty();
    return shutdown;
  }

  private <T> Future<T> ignore(Throwable err) {
    log.warn("Shutdown step failed: {}", err.getMessage());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    return Future.succeededFuture();
  }
}

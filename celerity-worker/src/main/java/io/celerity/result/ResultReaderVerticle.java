package io.celerity.result;

import io.celerity.Addresses;
import io.celerity.backend.Backends;
import io.celerity.backend.ResultBackend;
import io.celerity.backend.RetryingBackend;
import io.celerity.backend.WriteRetryPolicy;
import io.celerity.config.WorkerOptions;
import io.celerity.types.Request;
import io.celerity.types.ResultHealth;
import io.celerity.types.ResultStats;
import io.celerity.types.TaskOutcome;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;

/**
 * The result-reader: collects starts and outcomes from the pool, stores states in the result
 * backend, and tells the consumer when to settle each delivery.
 */
public class ResultReaderVerticle extends VerticleBase {

  private final io.celerity.WorkerServices services;
  private RetryingBackend backend;
  private ResultRecorder recorder;
  private io.celerity.metrics.WorkerMetrics metrics;
  private io.celerity.events.TaskEvents events;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("celery.worker");

  public ResultReaderVerticle(io.celerity.WorkerServices services) {
    this.services = services;
  }

  @Override
  public Future<?> start() {
    WorkerOptions options = new WorkerOptions(config());
    metrics = services.metrics();
    ResultBackend raw =
        Backends.create(
            vertx,
            options.getResultBackend(),
            options.getResultExpires(),
            m -> vertx.eventBus().request(Addresses.BROKER_PUBLISH, m).mapEmpty());
    // Writes are retried as Celery's backends retry them; the memory backend cannot fail.
    WriteRetryPolicy policy =
        raw instanceof io.celerity.backend.MemoryBackend
            ? WriteRetryPolicy.NONE
            : options.getResultWriteRetryPolicy();
    backend =
        new RetryingBackend(
            vertx,
            raw,
            policy,
            new RetryingBackend.Listener() {
              @Override
              public void retried() {
                metrics.resultWriteRetried();
                metrics.resultBackendUp(false);
              }

              @Override
              public void gaveUp() {
                metrics.resultWriteFailed();
              }
            });
    var bus = vertx.eventBus();
    recorder =
        new ResultRecorder(
            backend,
            s -> bus.send(Addresses.CONSUMER_SETTLE, s),
            m -> bus.request(Addresses.BROKER_PUBLISH, m).mapEmpty(),
            options.isResultExtended(),
            options.getHostname(),
            options.getTaskDefaultQueue());
    events = services.events();
    bus.<Request>consumer(
        Addresses.RESULT_STARTED,
        m -> {
          Request r = m.body();
          recorder.started(r);
          events.taskStarted(r);
        });
    bus.<TaskOutcome>consumer(Addresses.RESULT_OUTCOME, m -> outcome(m.body()));
    bus.<TaskOutcome.Batch>consumer(
        Addresses.RESULT_OUTCOME_ALL,
        m -> {
          for (TaskOutcome o : m.body().outcomes()) {
            try {
              outcome(o);
            } catch (RuntimeException e) {
              // one outcome's failure must not cost the others of its batch their settlement
              log.error("Handling the outcome of task {} failed", o.message().id(), e);
            }
          }
        });
    bus.<io.celerity.canvas.Launch>consumer(
        Addresses.RESULT_LAUNCH,
        m ->
            recorder
                .launch(m.headers().get("parent_id"), m.body())
                .onComplete(
                    ar -> {
                      if (ar.succeeded()) {
                        m.reply(null);
                      } else {
                        m.fail(500, String.valueOf(ar.cause().getMessage()));
                      }
                    }));
    bus.<String>consumer(
        Addresses.RESULT_GET,
        m ->
            backend
                .get(m.body())
                .onSuccess(doc -> m.reply(doc == null ? null : new JsonObject(doc)))
                .onFailure(err -> m.fail(500, err.getMessage())));
    bus.consumer(
        Addresses.RESULT_STATS,
        m ->
            m.reply(
                new ResultStats(
                    recorder.succeeded(),
                    recorder.failed(),
                    recorder.retried(),
                    recorder.revoked(),
                    recorder.pendingWrites(),
                    recorder.resultsLost(),
                    backend.retries(),
                    backend.gaveUp(),
                    backend.health().name())));
    // /ready: the last writes went through, and the backend answers a round trip now.
    bus.consumer(
        Addresses.RESULT_HEALTH,
        m ->
            backend
                .ping()
                .timeout(2, java.util.concurrent.TimeUnit.SECONDS)
                .onComplete(
                    ar -> {
                      boolean up = ar.succeeded() && backend.health() == RetryingBackend.Health.UP;
                      String error =
                          ar.failed()
                              ? String.valueOf(ar.cause().getMessage())
                              : backend.lastError();
                      m.reply(
                          new ResultHealth(
                              up,
                              backend.health().name(),
                              backend.retrying(),
                              ar.succeeded(),
                              error));
                    }));
    // warm shutdown: pending writes get 10 s
    bus.consumer(
        Addresses.RESULT_FLUSH,
        m ->
            recorder
                .whenIdle()
                .timeout(10, java.util.concurrent.TimeUnit.SECONDS)
                .onComplete(ar -> m.reply(null)));
    return Future.succeededFuture();
  }

  /** A task's outcome: stored (when it is), its canvas run, the message settled, counted. */
  private void outcome(TaskOutcome o) {
    recorder
        .finished(o)
        .onComplete(
            ar -> {
              metrics.resultBackendUp(backend.health() == RetryingBackend.Health.UP);
              if (o.request() != null) {
                metrics.turnaround(
                    o.message().task(), System.nanoTime() - o.request().receivedNanos());
              }
            });
    metrics.finished(o.message().task(), o.state(), o.runtimeSeconds(), o.started());
    if (o.notStoredByChild() != null) {
      metrics.resultWriteFailed(); // the child's backend gave up on the write, as a given-up
      // write of the worker's own
    }
    if (!io.celerity.canvas.CanvasDuties.isReplace(o.error())) { // Celery sends no event for Ignore
      events.taskOutcome(o);
    }
  }

  /** The event loop the result-reader runs on (once deployed). */
  public io.netty.channel.EventLoop eventLoop() {
    return ((io.vertx.core.internal.ContextInternal) context).nettyEventLoop();
  }

  @Override
  public Future<?> stop() {
    return backend.close();
  }
}

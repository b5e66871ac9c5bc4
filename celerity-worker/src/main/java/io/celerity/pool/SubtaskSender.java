package io.celerity.pool;

import io.celerity.Addresses;
import io.celerity.canvas.Launch;
import io.celerity.canvas.Signature;
import io.celerity.task.TaskContext;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends what a running task starts ({@code ctx.applyAsync}, {@code ctx.send}) with the worker's own
 * broker connection, as Celery's {@code send_task} inside a task does: {@code parent_id} = the
 * running task, {@code root_id} = its root, {@code origin} = {@code gen<pid>@<host>}, routed to
 * {@code task_default_queue} unless the signature or the options say otherwise. The messages are
 * built on the task's thread; the result-reader stores chord sizes and publishes them. A
 * thread-pool task's thread waits for the broker's confirms ({@link #apply}), so a failure to send
 * is the task's exception; an async task gets a future of it instead ({@link #send}).
 */
public final class SubtaskSender {

  /**
   * Below the event bus's reply timeout; a broker that confirms nothing for this long fails the
   * send.
   */
  private static final long SEND_TIMEOUT_MS = 30_000;

  private static final long PID = ProcessHandle.current().pid();

  private final Vertx vertx;
  private final String defaultQueue;

  /** Celery's worker app {@code thread_oid}: the reply_to of what its tasks send. */
  private final String replyTo = UUID.randomUUID().toString();

  public SubtaskSender(Vertx vertx, String defaultQueue) {
    this.vertx = vertx;
    this.defaultQueue = defaultQueue;
  }

  /**
   * Builds and sends {@code sig.apply_async(**options)} as a child of {@code parent}; blocks the
   * task's thread until the broker has every message.
   *
   * @return the id of the result the signature produces
   * @throws IllegalStateException when it could not be sent, or on an event-loop thread
   */
  public String apply(TaskContext parent, Signature sig, Map<String, Object> options) {
    if (Context.isOnEventLoopThread()) {
      throw new IllegalStateException(
          "a subtask cannot be sent with ctx.applyAsync/delay/send from an event-loop thread (it"
              + " waits for the broker): an async task uses ctx.applyAsyncStage/delayStage/sendStage");
    }
    Launch launch = launch(parent, sig, options);
    try {
      return request(launch, sig, parent.id()).get(SEND_TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while sending subtask " + sig.task(), e);
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw cause instanceof IllegalStateException ise
          ? ise
          : new IllegalStateException(
              "subtask " + sig.task() + " could not be sent: " + cause.getMessage(), cause);
    }
  }

  /**
   * Builds {@code sig.apply_async(**options)} as a child of {@code parent} and sends it without
   * waiting: from any thread, an event loop included.
   *
   * @return completes with the id of the result the signature produces once the broker has every
   *     message, or fails with an {@link IllegalStateException} when it could not be sent (a
   *     signature that cannot be built fails it too)
   */
  public CompletableFuture<String> send(
      TaskContext parent, Signature sig, Map<String, Object> options) {
    Launch launch;
    try {
      launch = launch(parent, sig, options);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return request(launch, sig, parent.id());
  }

  private Launch launch(TaskContext parent, Signature sig, Map<String, Object> options) {
    String root = parent.rootId() != null ? parent.rootId() : parent.id();
    return Launch.of(
        sig,
        origin(parent.hostname()),
        defaultQueue,
        replyTo,
        options == null ? Map.of() : options,
        parent.id(),
        root);
  }

  /** Hands the messages to the result-reader, which publishes them; completes once confirmed. */
  private CompletableFuture<String> request(Launch launch, Signature sig, String parentId) {
    CompletableFuture<String> sent = new CompletableFuture<>();
    vertx
        .eventBus()
        .request(
            Addresses.RESULT_LAUNCH,
            launch,
            new DeliveryOptions().setSendTimeout(SEND_TIMEOUT_MS).addHeader("parent_id", parentId))
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                sent.complete(launch.id());
              } else {
                sent.completeExceptionally(
                    new IllegalStateException(
                        "subtask " + sig.task() + " could not be sent: " + ar.cause().getMessage(),
                        ar.cause()));
              }
            });
    return sent;
  }

  /** Celery's {@code anon_nodename()} of the worker: {@code gen<pid>@<host of the node name>}. */
  static String origin(String nodeName) {
    int at = nodeName == null ? -1 : nodeName.indexOf('@');
    return "gen" + PID + "@" + (at < 0 ? String.valueOf(nodeName) : nodeName.substring(at + 1));
  }
}

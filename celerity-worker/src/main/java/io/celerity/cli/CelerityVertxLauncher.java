package io.celerity.cli;

import io.celerity.Addresses;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.launcher.application.HookContext;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;
import java.util.concurrent.TimeUnit;

/**
 * The Vert.x launcher ({@code vertx run}-style) with the worker's warm shutdown wired in: {@code
 * java -cp celerity.jar io.celerity.cli.CelerityVertxLauncher io.celerity.WorkerVerticle -conf
 * conf/worker.json}. The plain {@code VertxApplication} works too, but then a stop undeploys the
 * verticles without waiting for running tasks.
 */
public final class CelerityVertxLauncher implements VertxApplicationHooks {

  private static final long SHUTDOWN_BUDGET_MS = 120_000;

  public static void main(String[] args) {
    int code = new VertxApplication(args, new CelerityVertxLauncher()).launch();
    if (code != 0) {
      System.exit(code);
    }
  }

  @Override
  public void beforeStoppingVertx(HookContext context) {
    try {
      context
          .vertx()
          .eventBus()
          .request(
              Addresses.WORKER_SHUTDOWN,
              true,
              new DeliveryOptions().setSendTimeout(SHUTDOWN_BUDGET_MS))
          .toCompletionStage()
          .toCompletableFuture()
          .get(SHUTDOWN_BUDGET_MS, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      System.err.println("celerity: warm shutdown did not complete: " + e);
    }
  }
}

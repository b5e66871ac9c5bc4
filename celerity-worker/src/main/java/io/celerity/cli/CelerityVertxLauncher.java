package io.celerity.cli;

import io.vertx.core.json.JsonObject;
import io.vertx.launcher.application.HookContext;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;

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

  /**
   * Netty's epoll transport, as {@code celerity worker} uses, unless {@code -options} says {@code
   * preferNativeTransport} itself (the worker's {@code native_transport} is read before Vert.x
   * starts only by {@code celerity worker}).
   */
  @Override
  public JsonObject afterVertxOptionsParsed(JsonObject vertxOptions) {
    JsonObject options = vertxOptions == null ? new JsonObject() : vertxOptions;
    if (!options.containsKey("preferNativeTransport")) {
      options.put("preferNativeTransport", true);
    }
    return options;
  }

  @Override
  public void beforeStoppingVertx(HookContext context) {
    try {
      Main.stopWorker(context.vertx(), true, SHUTDOWN_BUDGET_MS);
    } catch (Exception e) {
      System.err.println("celerity: warm shutdown did not complete: " + e);
    }
  }
}

package io.celerity;

import io.celerity.config.Urls;
import io.celerity.config.WorkerOptions;
import io.celerity.heartbeat.WorkerEvents;
import io.celerity.task.TaskRegistry;

/** The start-up banner, in the shape of Celery's, so habits and log tooling carry over. */
final class Banner {

  private Banner() {}

  /**
   * @param generatedToken the HTTP bridge's token when this run made it (no {@code http_token}),
   *     printed here and nowhere else, as Jupyter prints its own; null when configured
   */
  static void print(WorkerOptions o, TaskRegistry tasks, int httpPort, String generatedToken) {
    StringBuilder sb = new StringBuilder();
    String os =
        System.getProperty("os.name")
            + "-"
            + System.getProperty("os.version")
            + " Java-"
            + Runtime.version().feature();
    sb.append("\n -------------- ")
        .append(o.getHostname())
        .append(" v")
        .append(WorkerEvents.SW_VER)
        .append(" (celerity)\n")
        .append("--- ***** ----- \n")
        .append("-- ******* ---- ")
        .append(os)
        .append('\n')
        .append("- *** --- * --- \n")
        .append("- ** ---------- [config]\n")
        .append("- ** ---------- .> app:         celerity\n")
        .append("- ** ---------- .> transport:   ")
        .append(Urls.redact(o.getBroker()))
        .append('\n')
        .append("- ** ---------- .> results:     ")
        .append(Urls.redact(o.getResultBackend()))
        .append('\n')
        .append("- *** --- * --- .> concurrency: ")
        .append(o.getConcurrency())
        .append(" (")
        .append(o.getPool())
        .append(")\n")
        .append("-- ******* ---- .> task events: ")
        .append(o.isTaskEvents() ? "ON" : "OFF (enable -E to monitor tasks in this worker)")
        .append('\n')
        .append("--- ***** ----- \n")
        .append(" -------------- [queues]\n");
    for (String q : o.getQueues()) {
      sb.append("                .> ")
          .append(String.format("%-16s exchange=%s(direct) key=%s", q, q, q))
          .append('\n');
    }
    sb.append("\n[tasks]\n");
    for (String name : tasks.names()) {
      if (!name.startsWith("celery.")) { // Celery's banner leaves its built-ins out
        sb.append("  . ").append(name).append('\n');
      }
    }
    sb.append("\n[http] http://").append(o.getHttpHost()).append(':').append(httpPort).append('\n');
    if (generatedToken != null) {
      sb.append(
              "  No http_token configured: sending tasks and control commands need this run's token,\n")
          .append("  printed only here (set CELERITY_HTTP_TOKEN to choose your own):\n")
          .append("    export CELERITY_HTTP_TOKEN=")
          .append(generatedToken)
          .append('\n');
    }
    System.out.println(sb);
    System.out.flush();
  }
}

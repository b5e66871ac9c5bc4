package io.celerity.cli;

import io.celerity.config.ConfigLoader;
import io.celerity.config.WorkerOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code celerity health}: asks a worker's HTTP bridge for {@code /health} (or {@code /ready}) and
 * exits 0 when it answers 200, 1 otherwise. The container health check, so the image needs no curl.
 * Host and port come from the same configuration as the worker's ({@code CELERITY_HTTP_PORT} …).
 */
@Command(
    name = "health",
    mixinStandardHelpOptions = true,
    description =
        "Exit 0 if the local worker's HTTP bridge answers /health (or /ready) with 200, else 1.")
public class Health implements Callable<Integer> {

  @Option(
      names = "--ready",
      description = "Ask /ready (broker connected, pool and result backend up) rather than /health")
  boolean ready;

  @Option(
      names = "--url",
      description =
          "Bridge base URL. Default http://<http_host>:<http_port> (0.0.0.0 asked on 127.0.0.1)")
  String url;

  @Option(names = "--timeout", description = "Seconds to wait for the answer. Default 3")
  double timeout = 3;

  @Option(names = "--config", description = "JSON config file. Default conf/worker.json if present")
  Path config;

  @Override
  public Integer call() {
    String probe = (ready ? "/ready" : "/health");
    try {
      URI uri = URI.create((url != null ? url : baseUrl()) + probe);
      Duration limit = Duration.ofMillis((long) (timeout * 1000));
      HttpResponse<String> r =
          HttpClient.newBuilder()
              .connectTimeout(limit)
              .build()
              .send(
                  HttpRequest.newBuilder(uri).timeout(limit).GET().build(),
                  HttpResponse.BodyHandlers.ofString());
      System.out.println(r.statusCode() + " " + r.body());
      return r.statusCode() == 200 ? 0 : 1;
    } catch (Exception e) {
      System.out.println("celerity health: " + probe + " did not answer: " + e);
      return 1;
    }
  }

  private String baseUrl() throws Exception {
    WorkerOptions o =
        new WorkerOptions(
            ConfigLoader.load(
                config != null ? config : ConfigLoader.DEFAULT_CONFIG_FILE,
                config != null,
                System.getenv(),
                new io.vertx.core.json.JsonObject()));
    String host = o.getHttpHost();
    if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
      host = "127.0.0.1"; // bound on every interface: loopback is one of them
    } else if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + o.getHttpPort();
  }
}

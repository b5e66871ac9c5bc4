package io.celerity.control;

import io.celerity.Addresses;
import io.celerity.config.WorkerOptions;
import io.celerity.events.TaskEvents;
import io.celerity.protocol.Json;
import io.celerity.transport.FanoutBinding;
import io.celerity.transport.FanoutSubscription;
import io.celerity.types.Delivery;
import io.celerity.types.OutgoingMessage;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control verticle wires Celery's remote control: pidbox requests from the broker go to the
 * {@link Panel}'s commands and their replies back to the broker; the {@link HttpBridge} serves the
 * same commands, the probes and the metrics over HTTP.
 */
public class ControlVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.control");

  /** Celery's control exchange, {@code <control_exchange>.pidbox}. */
  public static final String PIDBOX_EXCHANGE = "celery.pidbox";

  private final io.celerity.WorkerServices services;
  private ControlCommands commands;
  private Pidbox mailbox;
  private HttpServer server;
  private String httpToken;
  private boolean generatedToken;

  public ControlVerticle(io.celerity.WorkerServices services) {
    this.services = services;
  }

  @Override
  public Future<?> start() {
    WorkerOptions options = new WorkerOptions(config());
    TaskEvents events = services.events();
    mailbox = new Pidbox(options.getHostname(), events.clock());
    if (!io.celerity.config.Urls.isLoopback(options.getHttpHost())
        && options.getHttpToken() == null) {
      return Future.failedFuture(
          new IllegalArgumentException(
              "The HTTP bridge binds to "
                  + options.getHttpHost()
                  + ", beyond this machine: set http_token (CELERITY_HTTP_TOKEN) or bind to 127.0.0.1"));
    }
    // Sending a task or a control command always needs a token: without one configured, this run
    // makes its own.
    generatedToken = options.getHttpToken() == null;
    httpToken = generatedToken ? HttpPolicy.generateToken() : options.getHttpToken();
    HttpPolicy policy =
        new HttpPolicy(
            httpToken,
            options.isHttpRequireTokenForReads(),
            options.getHttpHost(),
            options.getHttpAllowedHosts(),
            options.getHttpCorsOrigins());
    WorkerStatus status = new WorkerStatus(vertx, options, mailbox::clock);
    commands =
        new Panel(vertx, options, services.registry(), events, status, mailbox::clock).commands();
    EventMonitor monitor =
        new EventMonitor(
            new io.celerity.events.ClusterState(
                options.getMonitorMaxTasks(), options.getMonitorMaxTasks()));
    FlowerApi flower = new FlowerApi(vertx, options, commands, status, mailbox, monitor.state());
    java.util.function.Predicate<String> knownTask =
        name -> services.registry().get(name) != null || monitor.state().taskTypes().contains(name);
    HttpBridge bridge =
        new HttpBridge(
            vertx,
            options,
            commands,
            policy,
            services.metrics(),
            status,
            flower,
            new Dashboard(options, status, monitor.state(), events),
            knownTask);
    vertx.eventBus().<Delivery>consumer(Addresses.CONTROL_PIDBOX, m -> onRequest(m.body()));
    FanoutBinding pidbox =
        new FanoutBinding(
            PIDBOX_EXCHANGE,
            options.getHostname() + "." + PIDBOX_EXCHANGE,
            "",
            Map.of("x-message-ttl", 300_000, "x-expires", 10_000));
    return vertx
        .eventBus()
        .request(
            Addresses.CONSUMER_FANOUT, new FanoutSubscription(pidbox, Addresses.CONTROL_PIDBOX))
        .compose(v -> options.isMonitorEvents() ? monitor.start(vertx) : Future.succeededFuture())
        .compose(v -> bridge.listen())
        .onSuccess(
            s -> {
              server = s;
              log.info(
                  "HTTP bridge listening on http://{}:{}", options.getHttpHost(), s.actualPort());
            });
  }

  /**
   * A pidbox request: ours? run it, reply if a reply is wanted. Bad requests are logged and
   * dropped.
   */
  @SuppressWarnings("unchecked")
  private void onRequest(Delivery d) {
    Map<String, Object> request;
    try {
      request = (Map<String, Object>) Json.parse(d.body());
    } catch (Exception e) {
      log.error("Dropping undecodable remote-control message: {}", e.getMessage());
      return;
    }
    mailbox.observe(d.headers());
    if (!(request.get("method") instanceof String method)
        || !mailbox.accepts(request, d.headers(), System.currentTimeMillis() / 1000.0)) {
      return;
    }
    Object args = request.get("arguments");
    JsonObject arguments =
        args instanceof Map<?, ?> a ? new JsonObject((Map<String, Object>) a) : new JsonObject();
    log.debug("pidbox received method {} {}", method, arguments);
    commands
        .dispatch(method, arguments)
        // encoded on a worker thread: a reply grows with what the worker holds (inspect scheduled)
        .compose(
            result ->
                result == ControlCommands.NO_REPLY
                    ? Future.<OutgoingMessage>succeededFuture()
                    : vertx.executeBlocking(() -> mailbox.reply(request, result), false))
        .compose(
            reply ->
                reply == null
                    ? Future.succeededFuture()
                    : vertx.eventBus().request(Addresses.BROKER_PUBLISH, reply))
        .onFailure(
            err -> log.warn("Remote-control reply to {} not sent: {}", method, err.getMessage()));
  }

  /**
   * The token this run generated (no {@code http_token} configured), for the banner to print once;
   * else null.
   */
  public String generatedHttpToken() {
    return generatedToken ? httpToken : null;
  }

  /** The bridge's bearer token, configured or generated. */
  public String httpToken() {
    return httpToken;
  }

  /** The port actually bound (useful with {@code http_port} 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }
}

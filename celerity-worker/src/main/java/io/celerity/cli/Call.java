package io.celerity.cli;

import io.celerity.client.AsyncResult;
import io.celerity.client.CelerityClient;
import io.celerity.client.ClientOptions;
import io.celerity.client.ResultTimeoutException;
import io.celerity.client.SendOptions;
import io.celerity.client.TaskFailedException;
import io.celerity.config.ConfigLoader;
import io.celerity.protocol.IsoTime;
import io.celerity.protocol.Json;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code celerity call TASK}: Celery's {@code celery call} on the Java client. Prints the task id;
 * with {@code --wait}, also the result as JSON on the last line, or the task's exception as {@code
 * Type: message}. Broker and backend come from the flags, else from {@code CELERITY_BROKER} /
 * {@code CELERITY_RESULT_BACKEND} or the config file, as for the worker.
 */
@Command(
    name = "call",
    mixinStandardHelpOptions = true,
    description = "Send a task (like celery call) and optionally wait for its result.",
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
      "0:sent (with --wait: the task succeeded)",
      "1:the task failed or was revoked (with --wait)",
      "2:bad arguments or configuration",
      "3:no result within --wait seconds",
      "4:the broker or result backend could not be used"
    })
public class Call implements Callable<Integer> {

  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int TIMED_OUT = 3;
  static final int UNAVAILABLE = 4;

  @Parameters(
      index = "0",
      paramLabel = "TASK",
      description = "Registered task name, e.g. tasks.add")
  String task;

  @Option(
      names = {"-a", "--args"},
      description = "Positional arguments as a JSON list. Default []")
  String args = "[]";

  @Option(
      names = {"-k", "--kwargs"},
      description = "Keyword arguments as a JSON object. Default {}")
  String kwargs = "{}";

  @Option(names = "--countdown", description = "Run no earlier than this many seconds from now")
  Double countdown;

  @Option(names = "--eta", description = "Run no earlier than this ISO-8601 time")
  String eta;

  @Option(
      names = "--expires",
      description = "Seconds from now, or an ISO-8601 time, after which the task is revoked")
  String expires;

  @Option(
      names = {"-Q", "--queue"},
      description = "Target queue. Default: task_default_queue (celery)")
  String queue;

  @Option(names = "--exchange", description = "Exchange to publish to (with --routing-key)")
  String exchange;

  @Option(names = "--routing-key", description = "Routing key (with --exchange)")
  String routingKey;

  @Option(names = "--priority", description = "Message priority")
  Integer priority;

  @Option(
      names = {"-b", "--broker"},
      description = "Broker URL (amqp://..., redis://...)")
  String broker;

  @Option(
      names = "--result-backend",
      description = "Result backend URL (redis://..., rpc://), needed by --wait")
  String resultBackend;

  @Option(
      names = "--wait",
      paramLabel = "SECONDS",
      description = "Wait this long for the result and print it")
  Double wait;

  @Option(names = "--config", description = "JSON config file. Default conf/worker.json if present")
  Path config;

  PrintStream out = System.out;
  PrintStream err = System.err;

  @Override
  public Integer call() {
    Main.setLogLevel("WARNING"); // stdout is for the id and the result; warnings still reach stderr
    ClientOptions options;
    SendOptions send;
    List<Object> a;
    Map<String, Object> k;
    try {
      options = options();
      send = sendOptions();
      a = jsonList(args);
      k = jsonObject(kwargs);
    } catch (RuntimeException | IOException e) { // bad JSON, a bad ISO time, a config error
      err.println("celerity call: " + e.getMessage());
      return USAGE;
    }
    if (wait != null && disabled(options.resultBackend())) {
      err.println(
          "celerity call: --wait needs a result backend (--result-backend redis://... or rpc://)");
      return USAGE;
    }
    CelerityClient client;
    try {
      client = CelerityClient.connect(options);
    } catch (RuntimeException e) {
      err.println("celerity call: cannot connect: " + e.getMessage());
      return UNAVAILABLE;
    }
    try (client) {
      AsyncResult r = client.send(task, a, k, send);
      out.println(r.id());
      if (wait == null) {
        return 0;
      }
      Object value = r.get(Duration.ofMillis((long) (wait * 1000)));
      out.println(Json.encodeToString(value));
      return 0;
    } catch (TaskFailedException e) {
      out.println(e.getMessage());
      return FAILED;
    } catch (ResultTimeoutException e) {
      err.println("celerity call: " + e.getMessage());
      return TIMED_OUT;
    } catch (RuntimeException e) {
      err.println("celerity call: " + e.getMessage());
      return UNAVAILABLE;
    }
  }

  private ClientOptions options() throws IOException {
    JsonObject flags = new JsonObject();
    if (broker != null) {
      flags.put("broker", broker);
    }
    if (resultBackend != null) {
      flags.put("result_backend", resultBackend);
    }
    JsonObject conf =
        ConfigLoader.load(
            config != null ? config : ConfigLoader.DEFAULT_CONFIG_FILE,
            config != null,
            System.getenv(),
            flags);
    String b = conf.getString("broker");
    if (b == null || b.startsWith("memory:")) {
      throw new IllegalArgumentException(
          "a broker is required: --broker amqp://... or redis://... (or CELERITY_BROKER)");
    }
    Object maxPriority = conf.getValue("queue_max_priority");
    String rb = conf.getString("result_backend");
    return new ClientOptions(
        b,
        disabled(rb) ? null : rb,
        conf.getString("task_default_queue", ClientOptions.DEFAULT_QUEUE),
        ClientOptions.DEFAULT_RESULT_EXPIRES,
        maxPriority instanceof Number n ? n.intValue() : null,
        Map.of(),
        null);
  }

  private SendOptions sendOptions() {
    SendOptions s = SendOptions.with();
    if (countdown != null) {
      s.countdown(countdown);
    }
    if (eta != null) {
      s.eta(IsoTime.parse(eta));
    }
    if (expires != null) {
      try {
        s.expires(Double.parseDouble(expires));
      } catch (NumberFormatException notSeconds) {
        s.expires(IsoTime.parse(expires));
      }
    }
    if (queue != null) {
      s.queue(queue);
    }
    if (exchange != null) {
      s.exchange(exchange);
    }
    if (routingKey != null) {
      s.routingKey(routingKey);
    }
    if (priority != null) {
      s.priority(priority);
    }
    return s;
  }

  private static boolean disabled(String backend) {
    return backend == null
        || backend.isBlank()
        || backend.equals("disabled")
        || backend.equals("none")
        || backend.startsWith("memory:");
  }

  @SuppressWarnings("unchecked")
  private static List<Object> jsonList(String text) throws IOException {
    if (!(Json.parse(text) instanceof List<?> l)) {
      throw new IllegalArgumentException("--args must be a JSON list, e.g. '[2, 2]'");
    }
    return (List<Object>) l;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> jsonObject(String text) throws IOException {
    if (!(Json.parse(text) instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException("--kwargs must be a JSON object, e.g. '{\"x\": 1}'");
    }
    return (Map<String, Object>) m;
  }
}

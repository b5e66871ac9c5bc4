package io.celerity.bench;

import io.celerity.backend.ResultDocuments;
import io.celerity.backend.TaskResult;
import io.celerity.config.WorkerOptions;
import io.celerity.consumer.Strategy;
import io.celerity.examples.ExampleTasks;
import io.celerity.protocol.Json;
import io.celerity.protocol.MessageDecoder;
import io.celerity.protocol.TaskMessage;
import io.celerity.task.TaskRegistry;
import io.celerity.types.Delivery;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The per-task work of the hot path, on the message Debian's Celery 5.2.6 client sends for
 * {@code send_task('examples.add', (2, 2))} (headers and body as captured, see
 * src/test/resources/fixtures/amqp/add.json).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class HotPathBenchmark {

  private Delivery delivery;
  private MessageDecoder decoder;
  private Strategy strategy;
  private TaskMessage message;

  @Setup
  public void setUp() throws Exception {
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("lang", "py");
    headers.put("task", "examples.add");
    headers.put("id", "4bb44245-db7e-4b67-91d0-1631fbaa872f");
    headers.put("shadow", null);
    headers.put("eta", null);
    headers.put("expires", null);
    headers.put("group", null);
    headers.put("group_index", null);
    headers.put("retries", 0);
    headers.put("timelimit", Arrays.asList(null, null));
    headers.put("root_id", "4bb44245-db7e-4b67-91d0-1631fbaa872f");
    headers.put("parent_id", null);
    headers.put("argsrepr", "(2, 2)");
    headers.put("kwargsrepr", "{}");
    headers.put("origin", "gen12345@vm");
    headers.put("ignore_result", false);
    byte[] body = "[[2, 2], {}, {\"callbacks\": null, \"errbacks\": null, \"chain\": null, \"chord\": null}]"
      .getBytes(StandardCharsets.UTF_8);
    delivery = new Delivery(body, "application/json", "utf-8", headers, "4bb44245-db7e-4b67-91d0-1631fbaa872f",
      "95cf7627-cb8e-3635-a395-5fda3b3e5694", 0, "", "celery", "celery", false, 1L, 1);
    decoder = new MessageDecoder();
    TaskRegistry registry = new TaskRegistry();
    new ExampleTasks().register(registry);
    strategy = new Strategy(decoder, registry, new WorkerOptions());
    message = decoder.decode(delivery);
  }

  /** Content-type check, JSON body parse, protocol v2 header extraction. */
  @Benchmark
  public TaskMessage decode() throws Exception {
    return decoder.decode(delivery);
  }

  /** Decode plus task lookup and option resolution: what the consumer does per delivery. */
  @Benchmark
  public Strategy.Decision createRequest() {
    return strategy.decide(delivery);
  }

  /** The Redis result document of a SUCCESS, encoded to JSON. */
  @Benchmark
  public String encodeResult() {
    TaskResult r = new TaskResult(message.id(), "SUCCESS", 4L, null, List.of(), Instant.now(), null, null, null,
      message.replyTo(), message.correlationId());
    return Json.encodeToString(ResultDocuments.keyValueDocument(r));
  }
}

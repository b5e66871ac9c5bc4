package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.support.Polling;
import io.celerity.types.ConsumerStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/** A broker connection cut while tasks flow, for the reconnect tests of every transport. */
final class Reconnects {

  private Reconnects() {}

  /**
   * Sends 400 short tasks and cuts the proxy once 50 are done; returns when the worker has
   * reconnected.
   */
  static List<String> cutWhileTasksFlow(WorkerHarness worker, CeleryClient client, TcpProxy proxy)
      throws Exception {
    List<Map<String, Object>> calls = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      calls.add(CeleryClient.call("examples.sleep", List.of(0.005), Map.of()));
    }
    List<String> ids = new ArrayList<>();
    client.send(calls).forEach(r -> ids.add((String) r.get("id")));
    Polling.until(() -> worker.resultStats().succeeded() >= 50, 30_000);
    proxy.cut(true);
    Polling.until(() -> !worker.consumerStats().connected(), 10_000);
    proxy.accept();
    Polling.until(() -> worker.consumerStats().connected(), 30_000);
    return ids;
  }

  /** Every task succeeded, and the worker counted a reconnect. */
  static void assertAllSucceeded(
      WorkerHarness worker, CeleryClient client, List<String> ids, Supplier<String> brokerView)
      throws Exception {
    List<Map<String, Object>> results = client.get(ids, 60);
    long succeeded = results.stream().filter(r -> "SUCCESS".equals(r.get("state"))).count();
    if (succeeded != ids.size()) {
      // What a flake needs to be told apart: lost on the broker, stuck in the worker, or late.
      Map<Object, Long> states =
          results.stream()
              .collect(
                  Collectors.groupingBy(
                      r -> String.valueOf(r.get("state")), Collectors.counting()));
      assertEquals(
          ids.size(),
          succeeded,
          "every task completed after the reconnect; states "
              + states
              + "; "
              + brokerView.get()
              + "; consumer "
              + worker.consumerStats()
              + " pool "
              + worker.poolStats()
              + " results "
              + worker.resultStats());
    }
    ConsumerStats stats = worker.consumerStats();
    assertTrue(stats.reconnects() >= 1, "the worker reconnected: " + stats);
  }
}

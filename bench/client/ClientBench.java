import io.celerity.client.AsyncResult;
import io.celerity.client.CelerityClient;
import io.celerity.client.ClientOptions;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;

/**
 * The Java client's side of bench/client/run.sh (single-file program on target/celerity.jar):
 *
 *   java -cp target/celerity.jar bench/client/ClientBench.java MODE N QUEUE BROKER BACKEND
 *
 * MODE publish: N send_task with at most 256 unconfirmed (publisher confirms), tasks/s.
 *      publish-sync: N blocking sends, each waiting for its confirm (what Python's confirm_publish does).
 *      latency: N sequential send("examples.add").get(); p50/p90/p99 in ms.
 * Prints one JSON line. A warm-up of the same kind (not counted) runs first.
 */
public class ClientBench {

  public static void main(String[] a) throws Exception {
    String mode = a[0];
    int n = Integer.parseInt(a[1]);
    String queue = a[2];
    ClientOptions o = new ClientOptions(a[3], a.length > 4 ? a[4] : null, queue, 86_400, null, Map.of(), null);
    try (CelerityClient c = CelerityClient.connect(o)) {
      switch (mode) {
        case "publish" -> {
          publish(c, Math.min(n, 2000));
          long t0 = System.nanoTime();
          publish(c, n);
          print(mode, n, System.nanoTime() - t0, null);
        }
        case "publish-sync" -> {
          for (int i = 0; i < Math.min(n, 500); i++) {
            c.send("examples.add", i, i);
          }
          long t0 = System.nanoTime();
          for (int i = 0; i < n; i++) {
            c.send("examples.add", i, i);
          }
          print(mode, n, System.nanoTime() - t0, null);
        }
        case "latency" -> {
          for (int i = 0; i < Math.min(n, 50); i++) {
            c.send("examples.add", i, i).get(Duration.ofSeconds(30));
          }
          double[] ms = new double[n];
          long t0 = System.nanoTime();
          for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            AsyncResult r = c.send("examples.add", i, i);
            r.get(Duration.ofSeconds(30));
            ms[i] = (System.nanoTime() - t) / 1e6;
          }
          print(mode, n, System.nanoTime() - t0, ms);
        }
        default -> throw new IllegalArgumentException("mode: publish, publish-sync or latency");
      }
    }
  }

  /** n sends, at most 256 waiting for the broker's confirm. */
  private static void publish(CelerityClient c, int n) throws InterruptedException {
    Semaphore window = new Semaphore(256);
    for (int i = 0; i < n; i++) {
      window.acquire();
      c.sendAsync("examples.add", List.of(i, i), Map.of(), null).onComplete(ar -> {
        if (ar.failed()) {
          System.err.println("publish failed: " + ar.cause());
        }
        window.release();
      });
    }
    window.acquire(256);
  }

  private static void print(String mode, int n, long nanos, double[] ms) {
    double s = nanos / 1e9;
    StringBuilder sb = new StringBuilder("{\"client\": \"java\", \"mode\": \"" + mode + "\", \"n\": " + n
      + ", \"seconds\": " + s + ", \"rate\": " + (n / s));
    if (ms != null) {
      Arrays.sort(ms);
      sb.append(", \"p50\": ").append(ms[ms.length / 2]).append(", \"p90\": ").append(ms[(int) (ms.length * 0.9)])
        .append(", \"p99\": ").append(ms[(int) (ms.length * 0.99)]);
    }
    System.out.println(sb.append('}'));
  }
}

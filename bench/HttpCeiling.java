// Usage: java -cp celerity.jar bench/HttpCeiling.java N IN_FLIGHT PORT; prints "N requests, K in flight: R/s".
import io.vertx.core.*;
import io.vertx.core.http.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
/**
 * The HTTP rows' ceiling: N GETs to the benchmark's server straight from a Vert.x HttpClient, IN_FLIGHT at once, no
 * worker. A first, untimed pass of N warms both JVMs (this one and the server, which the worker rows then find warm)
 * and opens the connections; the rate is the second pass's.
 */
public class HttpCeiling {
  public static void main(String[] a) throws Exception {
    Vertx vertx = Vertx.vertx();
    int n = Integer.parseInt(a[0]), inflight = Integer.parseInt(a[1]), port = Integer.parseInt(a[2]);
    HttpClient c = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(inflight));
    pass(vertx, c, n, inflight, port);
    double seconds = pass(vertx, c, n, inflight, port);
    System.out.printf("%d requests, %d in flight: %.0f/s%n", n, inflight, n / seconds);
    System.exit(0);
  }

  private static double pass(Vertx vertx, HttpClient c, int n, int inflight, int port) throws Exception {
    AtomicInteger done = new AtomicInteger(), started = new AtomicInteger();
    CountDownLatch latch = new CountDownLatch(1);
    long t0 = System.nanoTime();
    Runnable[] next = new Runnable[1];
    next[0] = () -> {
      if (started.incrementAndGet() > n) return;
      c.request(HttpMethod.GET, port, "127.0.0.1", "/").compose(r -> r.send()).compose(r -> r.body()).onComplete(ar -> {
        if (ar.failed()) System.err.println(ar.cause());
        if (done.incrementAndGet() == n) latch.countDown(); else next[0].run();
      });
    };
    vertx.runOnContext(v -> { for (int i = 0; i < inflight; i++) next[0].run(); });
    latch.await(120, TimeUnit.SECONDS);
    return (System.nanoTime() - t0) / 1e9;
  }
}

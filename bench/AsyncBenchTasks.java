import io.celerity.task.Task;
import io.celerity.task.TaskContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;

/** Java async tasks of the async benchmark (bench/async.sh): each waits 100 ms, a timer or a local HTTP call. */
public class AsyncBenchTasks {

  private static volatile HttpClient client;
  private static final int PORT = Integer.parseInt(System.getenv().getOrDefault("BENCH_HTTP_PORT", "18999"));

  private static HttpClient client(Vertx vertx) {
    HttpClient c = client;
    if (c == null) {
      synchronized (AsyncBenchTasks.class) {
        if (client == null) {
          client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
            new PoolOptions().setHttp1MaxSize(1000));
        }
        c = client;
      }
    }
    return c;
  }

  @Task(name = "bench.jsleep")
  public static Future<Integer> sleep(TaskContext ctx) {
    return ctx.unwrap(Vertx.class).timer(100).map(x -> 1);
  }

  /** A synchronous no-op on the thread pool: the worker's per-task ceiling on this machine, for reference. */
  @Task(name = "bench.jnoop")
  public static int noop() {
    return 1;
  }

  /** An async task that completes at once: the async path's per-task cost without the wait. */
  @Task(name = "bench.jnow")
  public static Future<Integer> now() {
    return Future.succeededFuture(1);
  }

  @Task(name = "bench.jhttp")
  public static Future<Integer> http(TaskContext ctx) {
    return client(ctx.unwrap(Vertx.class)).request(HttpMethod.GET, PORT, "127.0.0.1", "/")
      .compose(req -> req.send()).compose(resp -> resp.body()).map(body -> body.length());
  }
}

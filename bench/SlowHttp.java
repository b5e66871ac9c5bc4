import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;

/**
 * The async benchmark's HTTP server: every response after 100 ms (the I/O the tasks wait on), keep-alive,
 * thousands of connections at once, a few µs of CPU per request (a Python server would be the bottleneck).
 * Usage: java -cp celerity.jar bench/SlowHttp.java PORT [DELAY_MS]; prints "ready" once it listens.
 */
public class SlowHttp {
  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    long delay = args.length > 1 ? Long.parseLong(args[1]) : 100;
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    vertx.createHttpServer(new HttpServerOptions().setAcceptBacklog(4096).setHost("127.0.0.1"))
      .requestHandler(req -> vertx.setTimer(delay, id -> req.response().putHeader("Content-Type", "text/plain").end("ok")))
      .listen(port)
      .onSuccess(s -> System.out.println("ready"))
      .onFailure(err -> {
        err.printStackTrace();
        System.exit(1);
      });
  }
}

package io.celerity.it;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy in front of a broker whose connections a test can cut, as a network failure would.
 */
public final class TcpProxy implements AutoCloseable {

  private final NetServer server;
  private final NetClient client;
  private final List<NetSocket> sockets = new CopyOnWriteArrayList<>();
  private final List<NetSocket> upstream = new CopyOnWriteArrayList<>();
  private volatile boolean refusing;
  private final java.util.concurrent.atomic.AtomicLong refused =
      new java.util.concurrent.atomic.AtomicLong();

  public TcpProxy(Vertx vertx, String targetHost, int targetPort) throws Exception {
    client = vertx.createNetClient();
    server =
        vertx
            .createNetServer()
            .connectHandler(
                in -> {
                  if (refusing) {
                    refused.incrementAndGet();
                    in.close();
                    return;
                  }
                  in.pause();
                  client
                      .connect(targetPort, targetHost)
                      .onSuccess(
                          out -> {
                            sockets.add(in);
                            sockets.add(out);
                            upstream.add(out);
                            in.handler(out::write);
                            out.handler(in::write);
                            in.closeHandler(v -> out.close());
                            out.closeHandler(
                                v -> {
                                  upstream.remove(out);
                                  in.close();
                                });
                            in.resume();
                          })
                      .onFailure(err -> in.close());
                });
    server
        .listen(0, "127.0.0.1")
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  public int port() {
    return server.actualPort();
  }

  /**
   * The local ports of the proxy's open connections to the target: what the target sees as the
   * client's port (e.g. {@code addr=} in Redis's {@code CLIENT LIST}).
   */
  public java.util.Set<Integer> upstreamPorts() {
    java.util.Set<Integer> ports = new java.util.HashSet<>();
    upstream.forEach(s -> ports.add(s.localAddress().port()));
    return ports;
  }

  /**
   * Cuts every proxied connection; with {@code refuse} new ones are closed at once, until {@link
   * #accept()}.
   */
  public void cut(boolean refuse) {
    refusing = refuse;
    sockets.forEach(NetSocket::close);
    sockets.clear();
  }

  /**
   * Connections closed at once because the proxy was refusing: attempts made while the target was
   * away.
   */
  public long refused() {
    return refused.get();
  }

  public void accept() {
    refusing = false;
  }

  @Override
  public void close() throws Exception {
    server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    client.close();
  }
}

package io.celerity.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.celerity.config.SettingException;
import io.celerity.support.BlockedThreadGuard;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A port already taken says which address it tried and which flag, setting or variable changes it.
 */
class HttpPortInUseTest {

  private Vertx vertx;

  @AfterEach
  void close() throws Exception {
    if (vertx == null) {
      return;
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Epoll (the worker's default) and NIO word the bind failure differently. */
  @ParameterizedTest(name = "native transport {0}")
  @ValueSource(booleans = {true, false})
  void aTakenPortNamesTheAddressAndHowToChooseAnother(boolean nativeTransport) throws Exception {
    vertx = BlockedThreadGuard.strictVertx(nativeTransport);
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      // the failure Vert.x really reports, explained as the bridge explains it
      ExecutionException e =
          assertThrows(
              ExecutionException.class,
              () ->
                  vertx
                      .createHttpServer()
                      .requestHandler(rc -> {})
                      .listen(port, "127.0.0.1")
                      .recover(
                          err ->
                              io.vertx.core.Future.failedFuture(
                                  HttpBridge.explainListenFailure(err, "127.0.0.1", port)))
                      .toCompletionStage()
                      .toCompletableFuture()
                      .get(10, TimeUnit.SECONDS));
      SettingException s = assertInstanceOf(SettingException.class, e.getCause());
      assertEquals(
          "the HTTP bridge cannot listen on 127.0.0.1:"
              + port
              + ": Address already in use; choose another port with "
              + "--http-port (setting http_port, CELERITY_HTTP_PORT), 0 for any free one, or stop what holds "
              + port,
          s.getMessage());
    }
  }

  @Test
  void otherFailuresAreLeftAsTheyAre() {
    IOException other = new IOException("Permission denied");
    assertSame(other, HttpBridge.explainListenFailure(other, "0.0.0.0", 80));
  }
}

package io.celerity.transport.amqp;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.it.TlsEndpoints;
import io.vertx.core.Vertx;
import io.vertx.rabbitmq.RabbitMQClient;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * amqps:// checks the broker's name on both connections of the AMQP transport, the publishing one
 * (the Vert.x client) and the consuming one (the Java client), against a TLS proxy in front of the
 * shared RabbitMQ whose certificate names {@code localhost} only.
 */
class AmqpsHostnameIT {

  private static TlsEndpoints tls;
  private static int port;
  private static final Vertx vertx = Vertx.vertx();

  @BeforeAll
  static void endpoints() throws Exception {
    tls = new TlsEndpoints();
    AmqpUrl plain = AmqpUrl.parse(io.celerity.it.Brokers.AMQP_URL);
    port = tls.tlsProxy(plain.host(), plain.port());
  }

  @AfterAll
  static void close() throws Exception {
    tls.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private static AmqpUrl url(String host) {
    AmqpUrl plain = AmqpUrl.parse(io.celerity.it.Brokers.AMQP_URL);
    return AmqpUrl.parse(
        "amqps://"
            + plain.user()
            + ":"
            + plain.password()
            + "@"
            + host
            + ":"
            + port
            + "/"
            + plain.vhost());
  }

  private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void publishingConnectionConnectsToTheCertificatesNameAndRefusesAnother() throws Exception {
    RabbitMQClient ok =
        RabbitMQClient.create(vertx, AmqpTransport.publisherOptions(url("localhost"), "tls-ok"));
    await(ok.start());
    await(ok.stop());

    RabbitMQClient wrong =
        RabbitMQClient.create(vertx, AmqpTransport.publisherOptions(url("127.0.0.1"), "tls-wrong"));
    ExecutionException e = assertThrows(ExecutionException.class, () -> await(wrong.start()));
    assertTrue(
        chain(e).contains("No subject alternative names matching IP address 127.0.0.1"), chain(e));
  }

  @Test
  void consumingConnectionConnectsToTheCertificatesNameAndRefusesAnother() throws Exception {
    io.vertx.core.Context ctx = vertx.getOrCreateContext();
    ConsumerConnection ok =
        await(LoopConsumerConnection.open(vertx, ctx, url("localhost"), "tls-ok", 1, why -> {}));
    assertTrue(ok.isOpen());
    await(ok.close());

    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () ->
                await(
                    LoopConsumerConnection.open(
                        vertx, ctx, url("127.0.0.1"), "tls-wrong", 1, why -> {})));
    assertTrue(
        chain(e).contains("No subject alternative names matching IP address 127.0.0.1"), chain(e));
  }

  @Test
  void clientConsumingConnectionConnectsToTheCertificatesNameAndRefusesAnother() throws Exception {
    io.vertx.core.Context ctx = vertx.getOrCreateContext();
    ConsumerConnection ok =
        await(ClientConsumerConnection.open(ctx, url("localhost"), "tls-ok", 1, why -> {}));
    await(ok.close());

    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () ->
                await(
                    ClientConsumerConnection.open(
                        ctx, url("127.0.0.1"), "tls-wrong", 1, why -> {})));
    assertTrue(
        chain(e).contains("No subject alternative names matching IP address 127.0.0.1"), chain(e));
  }

  private static String chain(Throwable t) {
    StringBuilder sb = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      sb.append(c).append(" <- ");
    }
    return sb.toString();
  }
}

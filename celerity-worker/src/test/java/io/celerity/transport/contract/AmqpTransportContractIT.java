package io.celerity.transport.contract;

import io.celerity.it.Amqp;
import io.celerity.it.Brokers;
import io.celerity.transport.amqp.AmqpUrl;

/** The contract on RabbitMQ. */
class AmqpTransportContractIT extends TransportContract {

  private final AmqpUrl real = AmqpUrl.parse(Brokers.AMQP_URL);

  @Override
  protected String url(int proxyPort) {
    return proxyPort == 0
        ? Brokers.AMQP_URL
        : "amqp://guest:guest@127.0.0.1:" + proxyPort + "/" + real.vhost();
  }

  @Override
  protected long waiting() throws Exception {
    try (Amqp amqp = new Amqp()) {
      return amqp.ready(queue);
    }
  }

  @Override
  protected int[] brokerPort() {
    return new int[] {real.port()};
  }

  @Override
  protected void deleteQueue() throws Exception {
    try (Amqp amqp = new Amqp()) {
      amqp.delete(queue);
    }
  }
}

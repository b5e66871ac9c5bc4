package io.celerity.transport.contract;

import io.celerity.transport.amqp.AmqpTransport;
import java.util.Map;

/** The contract on RabbitMQ with the task consumer on the RabbitMQ Java client. */
class AmqpClientConsumerContractIT extends AmqpTransportContractIT {

  @Override
  protected Map<String, Object> transportOptions() {
    return Map.of(AmqpTransport.CONSUMER_CONNECTION, "client");
  }
}

package io.celerity.it;

/** {@link WorkerTestBase} on RabbitMQ, results in Redis. */
abstract class AmqpTestBase extends WorkerTestBase {

  @Override
  protected String brokerUrl() {
    return Brokers.AMQP_URL;
  }

  @Override
  protected String resultsUrl() {
    return Brokers.REDIS_URL;
  }

  @Override
  protected void deleteQueue() throws Exception {
    try (Amqp amqp = new Amqp()) {
      amqp.delete(queue);
    }
  }
}

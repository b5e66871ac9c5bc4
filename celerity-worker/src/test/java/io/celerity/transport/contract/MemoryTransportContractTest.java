package io.celerity.transport.contract;

import io.celerity.transport.memory.MemoryBroker;

/** The contract on the in-JVM broker. */
class MemoryTransportContractTest extends TransportContract {

  private final String broker = "contract-" + queue;

  @Override
  protected String url(int proxyPort) {
    return "memory://" + broker;
  }

  @Override
  protected long waiting() {
    return MemoryBroker.named(broker).size(queue);
  }

  @Override
  protected int[] brokerPort() {
    return null;
  }

  @Override
  protected void deleteQueue() {}
}

package io.celerity.transport.amqp;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * One AMQP channel of {@link LoopConsumerConnection}: its synchronous methods go out one at a time,
 * each after the last one's reply (AMQP allows one in flight per channel), and fail together when
 * the broker closes the channel or the connection goes. Event loop only.
 */
final class AmqpChannel {

  /** A synchronous method sent, or waiting its turn on its channel. */
  static final class Rpc {
    final Buffer frame;
    final int replyId;
    final String queue;
    final Promise<Object> promise = Promise.promise();

    Rpc(Buffer frame, int replyId, String queue) {
      this.frame = frame;
      this.replyId = replyId;
      this.queue = queue;
    }

    void done(int methodId, AmqpCodec.Reader r) {
      promise.tryComplete(
          switch (methodId) {
            case AmqpCodec.BASIC_CONSUME_OK, AmqpCodec.BASIC_CANCEL_OK -> r.shortStr();
            default -> null;
          });
    }
  }

  final int number;
  private final Consumer<Buffer> out;
  final ArrayDeque<Rpc> calls = new ArrayDeque<>();
  String closedBecause;

  /** The broker closed this channel over a method (not the connection going). */
  boolean refused;

  /** The declaration step in flight (-1: the channel's own open). */
  int refusedStep = -1;

  AmqpChannel(int number, Consumer<Buffer> out) {
    this.number = number;
    this.out = out;
  }

  Future<Object> call(Buffer frame, int replyId, String queue) {
    Rpc rpc = new Rpc(frame, replyId, queue);
    if (closedBecause != null) {
      rpc.promise.fail(new IOException(closedBecause));
      return rpc.promise.future();
    }
    calls.add(rpc);
    if (calls.size() == 1) {
      out.accept(frame);
    }
    return rpc.promise.future();
  }

  /** The reply to the call in flight; the next call goes out. */
  Rpc reply(int methodId) {
    Rpc rpc = calls.peek();
    boolean expected =
        rpc != null
            && (rpc.replyId == methodId
                || (rpc.replyId == AmqpCodec.BASIC_GET_OK
                    && methodId == AmqpCodec.BASIC_GET_EMPTY));
    if (!expected) {
      throw new AmqpCodec.FrameException(
          "unexpected " + AmqpCodec.name(methodId) + " on channel " + number);
    }
    calls.poll();
    Rpc next = calls.peek();
    if (next != null) {
      out.accept(next.frame);
    }
    return rpc;
  }

  void closedByBroker(String why) {
    refused = true;
    gone(why);
  }

  void gone(String why) {
    closedBecause = why;
    Rpc rpc;
    while ((rpc = calls.poll()) != null) {
      rpc.promise.tryFail(refused ? new ChannelClosed(why) : new IOException(why));
    }
  }

  /** The broker closed the channel over a method: its reply code and text. */
  static final class ChannelClosed extends RuntimeException {
    ChannelClosed(String why) {
      super(why, null, false, false);
    }
  }
}

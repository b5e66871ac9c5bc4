import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The broker's own ceiling for Celery-sized messages, measured with the plain RabbitMQ Java client.
 *
 * Usage (single-file program, amqp-client + slf4j on the class path):
 *   java -cp amqp-client.jar:slf4j-api.jar:slf4j-nop.jar bench/RawAmqp.java URI CAPTURE_QUEUE QUEUE N
 *
 * CAPTURE_QUEUE holds one message published by the real Celery client (examples.add); it is taken
 * with basic.get and its exact properties + headers + body are republished N times. The capture
 * queue and QUEUE are deleted at the end. Output lines "RESULT key value" are parsed by bench.py.
 *
 * Phases, each on the same fresh queue:
 *   publish         N basic.publish (no confirms), timed until a passive declare shows N ready
 *   consume-ack1    basicQos(1000), one basic.ack per message
 *   publish again   (not reported)
 *   consume-ack50   basicQos(1000), basic.ack(multiple=true) every 50th message
 */
public class RawAmqp {
    public static void main(String[] args) throws Exception {
        String uri = args[0];
        String captureQueue = args[1];
        String queue = args[2];
        int n = Integer.parseInt(args[3]);
        long timeoutSec = args.length > 4 ? Long.parseLong(args[4]) : 120;

        ConnectionFactory f = new ConnectionFactory();
        f.setUri(uri);
        try (Connection conn = f.newConnection("celerity-bench-raw")) {
            Channel ch = conn.createChannel();
            GetResponse captured = ch.basicGet(captureQueue, true);
            if (captured == null) {
                throw new IllegalStateException("no captured message in " + captureQueue);
            }
            ch.queueDelete(captureQueue);
            AMQP.BasicProperties props = captured.getProps();
            byte[] body = captured.getBody();
            int headerBytes = props.getHeaders() == null ? 0 : props.getHeaders().toString().length();
            System.out.println("RESULT body_bytes " + body.length);
            System.out.println("RESULT headers_approx_chars " + headerBytes);

            ch.queueDeclare(queue, true, false, false, null);
            try {
                double pub = publish(ch, queue, props, body, n, timeoutSec);
                System.out.println("RESULT publish_msgs_per_s " + String.format("%.0f", pub));
                double c1 = consume(conn, queue, n, 1, timeoutSec);
                System.out.println("RESULT consume_ack1_msgs_per_s " + String.format("%.0f", c1));
                publish(ch, queue, props, body, n, timeoutSec);
                double c50 = consume(conn, queue, n, 50, timeoutSec);
                System.out.println("RESULT consume_ack50_msgs_per_s " + String.format("%.0f", c50));
            } finally {
                ch.queueDelete(queue);
            }
        }
    }

    static double publish(Channel ch, String queue, AMQP.BasicProperties props, byte[] body, int n, long timeoutSec)
            throws Exception {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            ch.basicPublish("", queue, props, body);
        }
        long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutSec);
        while (ch.queueDeclarePassive(queue).getMessageCount() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("publish did not settle in " + timeoutSec + " s");
            }
            Thread.sleep(2);
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    static double consume(Connection conn, String queue, int n, int ackEvery, long timeoutSec) throws Exception {
        Channel ch = conn.createChannel();
        ch.basicQos(1000);
        CountDownLatch done = new CountDownLatch(1);
        long[] first = {0};
        long[] last = {0};
        int[] count = {0};
        String tag = ch.basicConsume(queue, false, new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(String consumerTag, Envelope env, AMQP.BasicProperties p, byte[] b)
                    throws java.io.IOException {
                if (count[0] == 0) {
                    first[0] = System.nanoTime();
                }
                count[0]++;
                if (ackEvery == 1) {
                    getChannel().basicAck(env.getDeliveryTag(), false);
                } else if (count[0] % ackEvery == 0 || count[0] == n) {
                    getChannel().basicAck(env.getDeliveryTag(), true);
                }
                if (count[0] == n) {
                    last[0] = System.nanoTime();
                    done.countDown();
                }
            }
        });
        if (!done.await(timeoutSec, TimeUnit.SECONDS)) {
            throw new IllegalStateException("consume stalled at " + count[0] + "/" + n);
        }
        ch.basicCancel(tag);
        ch.close();
        // first delivery excluded from the interval: n-1 messages over (last - first)
        return (n - 1) / ((last[0] - first[0]) / 1e9);
    }
}

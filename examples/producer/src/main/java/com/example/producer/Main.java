package com.example.producer;

import io.celerity.canvas.Canvas;
import io.celerity.canvas.Signature;
import io.celerity.client.AsyncResult;
import io.celerity.client.CelerityClient;
import io.celerity.client.ClientOptions;
import io.celerity.client.GroupResult;
import io.celerity.client.SendOptions;
import io.celerity.client.TaskFailedException;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Sends tasks to any Celery worker (Python's or Celerity's) that has the {@code examples.*} tasks
 * (Celerity's built-in examples, or src/test/python/py_examples.py), and prints the results.
 *
 * <pre>
 * CELERY_BROKER=amqp://guest:guest@localhost:5672// CELERY_BACKEND=redis://localhost:6379/0 mvn -q compile exec:java
 * </pre>
 */
public final class Main {

  public static void main(String[] args) {
    String broker = System.getenv().getOrDefault("CELERY_BROKER", "amqp://guest:guest@localhost:5672//");
    String backend = System.getenv().getOrDefault("CELERY_BACKEND", "redis://localhost:6379/0");
    Duration timeout = Duration.ofSeconds(30);

    try (CelerityClient celery = CelerityClient.connect(ClientOptions.of(broker, backend))) {
      // add.delay(2, 2).get()
      AsyncResult sum = celery.send("examples.add", 2, 2);
      System.out.println("add(2, 2) = " + sum.get(timeout) + "  [" + sum.id() + ", " + sum.state() + "]");

      // send_task with options: run in 1 s, give up after 60 s
      Object later = celery.send("examples.mul", List.of(6, 7), Map.of(), SendOptions.with().countdown(1).expires(60))
        .get(timeout);
      System.out.println("mul(6, 7) after a countdown = " + later);

      // a failure comes back as the task's exception
      try {
        celery.send("examples.fail", "boom").get(timeout);
      } catch (TaskFailedException e) {
        System.out.println("fail('boom') raised " + e.excType() + ": " + e.excMessage());
      }

      // canvas: (1 + 2) * 10, then [1+1, 2+2], then sum([1+1, 2+2])
      System.out.println("chain = " + celery.delay(Canvas.chain(Signature.of("examples.add", 1, 2),
        Signature.of("examples.mul", 10))).get(timeout));
      GroupResult group = celery.applyGroup(Canvas.group(Signature.of("examples.add", 1, 1), Signature.of("examples.add", 2, 2)));
      System.out.println("group = " + group.get(timeout));
      System.out.println("chord = " + celery.delay(Canvas.chord(
        List.of(Signature.of("examples.add", 1, 1), Signature.of("examples.add", 2, 2)), Signature.of("examples.xsum"))).get(timeout));
    }
  }
}

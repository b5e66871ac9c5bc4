package io.celerity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Python runner reads the parent's frames on its main thread between tasks and hands reading to
 * a watch thread only while a task runs long (docs/process-pool.md). Driven here over the child
 * protocol by the test itself as the parent (no broker): what must still be answered while a task
 * runs is answered while it runs, and nothing is lost or reordered at the hand-overs.
 */
@Timeout(60)
class ChildReadingTest {

  private ServerSocket server;
  private Process child;
  private Socket socket;
  private DataInputStream in;
  private DataOutputStream out;
  private int nextJob = 1;

  @BeforeEach
  void start() throws Exception {
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    ProcessBuilder pb =
        new ProcessBuilder(CeleryClient.PYTHON, "-m", "celerity_child", "child_fns", "nap", "add")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment()
        .put(
            "PYTHONPATH",
            Path.of("src", "main", "resources", "python").toAbsolutePath()
                + ":"
                + Path.of("src", "test", "python").toAbsolutePath());
    child = pb.start();
    try (OutputStream stdin = child.getOutputStream()) {
      stdin.write(
          (new JsonObject()
                      .put("host", "127.0.0.1")
                      .put("port", server.getLocalPort())
                      .put("token", "t")
                      .put("hostname", "celery@test")
                      .put("heartbeat", 30.0)
                      .encode()
                  + "\n")
              .getBytes(StandardCharsets.UTF_8));
    }
    socket = server.accept();
    socket.setTcpNoDelay(true);
    in = new DataInputStream(socket.getInputStream());
    out = new DataOutputStream(socket.getOutputStream());
    assertEquals("hello", read().getString("type"));
    assertEquals("ready", read().getString("type"));
  }

  @AfterEach
  void stop() throws Exception {
    if (child != null) {
      child.destroyForcibly().waitFor();
    }
    if (socket != null) {
      socket.close();
    }
    server.close();
  }

  @Test
  void aQueuedRunIsTakenBackWhileTheTaskAheadOfItStillRuns() throws Exception {
    int slow = run("child_fns.nap", new JsonArray().add(3.0));
    int queued = run("child_fns.add", new JsonArray().add(1).add(2));
    send(new JsonObject().put("type", "unqueue").put("job", queued));
    JsonObject first = read();
    assertEquals(
        "skipped", first.getString("type"), "answered before the 3 s task ended: " + first);
    assertEquals(queued, first.getInteger("job"));
    JsonObject done = read();
    assertEquals(slow, done.getInteger("job"), done.encode());
    assertEquals("result", done.getString("type"), done.encode());
    // the socket is the main thread's again: the next runs are read and answered in order
    assertSums(50);
  }

  @Test
  void aSoftLimitReachesATaskBegunAfterTheChildIdled() throws Exception {
    assertSums(5);
    // past the watch thread's parking (a second without tasks): it must wake for the next task
    Thread.sleep(1500);
    int slow = run("child_fns.nap", new JsonArray().add(20.0));
    Thread.sleep(200);
    send(new JsonObject().put("type", "soft_limit").put("job", slow));
    JsonObject r = read();
    assertEquals(slow, r.getInteger("job"), r.encode());
    assertEquals("error", r.getString("type"), r.encode());
    assertEquals("SoftTimeLimitExceeded", r.getString("exc_type"), r.encode());
    assertSums(5);
  }

  @Test
  void anUnqueueForATaskAlreadyRunIsAnsweredBegunByTheMainThread() throws Exception {
    int job = run("child_fns.add", new JsonArray().add(2).add(2));
    JsonObject r = read();
    assertEquals(4, r.getInteger("value"), r.encode());
    send(new JsonObject().put("type", "unqueue").put("job", job));
    JsonObject answer = read();
    assertEquals("begun", answer.getString("type"), answer.encode());
    assertEquals(job, answer.getInteger("job"));
  }

  /** n short runs two at a time (as the pipelining parent sends them): every reply, in order. */
  private void assertSums(int n) throws Exception {
    List<Integer> jobs = new ArrayList<>();
    int sent = 0;
    int answered = 0;
    while (answered < n) {
      while (sent < n && sent - answered < 2) {
        jobs.add(run("child_fns.add", new JsonArray().add(sent).add(1)));
        sent++;
      }
      JsonObject r = read();
      assertEquals(jobs.get(answered), r.getInteger("job"), r.encode());
      assertEquals(answered + 1, r.getInteger("value"), r.encode());
      answered++;
    }
  }

  private int run(String task, JsonArray args) throws Exception {
    int job = nextJob++;
    send(
        new JsonObject()
            .put("type", "run")
            .put("job", job)
            .put("id", "id-" + job)
            .put("task", task)
            .put("args", args)
            .put("kwargs", new JsonObject()));
    return job;
  }

  private void send(JsonObject frame) throws Exception {
    byte[] b = frame.encode().getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
    out.flush();
  }

  /** The next frame that is not a heartbeat. */
  private JsonObject read() throws Exception {
    while (true) {
      byte[] b = new byte[in.readInt()];
      in.readFully(b);
      JsonObject m = new JsonObject(new String(b, StandardCharsets.UTF_8));
      if (!"heartbeat".equals(m.getString("type"))) {
        return m;
      }
    }
  }
}

import io.celerity.task.Task;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The Java twin of bench/chaos/chaos_tasks.py for the fault-injection suite: {@code chaos.mark(key, seq,
 * sleep)} sleeps, then records one execution with {@code HINCRBY key seq 1} in the counting Redis
 * (CHAOS_COUNT_REDIS, default 127.0.0.1:6379/12). Plain RESP over a socket per pool thread, so the
 * task needs nothing beyond the JDK. Compiled by bench/chaos/run.sh against target/celerity.jar.
 */
public class ChaosTasks {

  private static final ThreadLocal<Socket> CONN = new ThreadLocal<>();

  @Task(name = "chaos.mark", acksLate = true)
  public static long mark(String key, long seq, double sleep) throws Exception {
    if (sleep > 0) {
      Thread.sleep((long) (sleep * 1000));
    }
    try {
      command("HINCRBY", key, Long.toString(seq), "1");
    } catch (IOException e) { // a stale connection: one fresh attempt
      drop();
      command("HINCRBY", key, Long.toString(seq), "1");
    }
    return seq;
  }

  /** The soak's task: nothing, so the worker's own memory is what is measured. */
  @Task(name = "chaos.noop", ignoreResult = true)
  public static Object noop() {
    return null;
  }

  private static void drop() {
    Socket s = CONN.get();
    CONN.remove();
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // already broken
      }
    }
  }

  private static Socket socket() throws IOException {
    Socket s = CONN.get();
    if (s == null) {
      String spec = System.getenv().getOrDefault("CHAOS_COUNT_REDIS", "127.0.0.1:6379/12");
      String[] hostRest = spec.split(":", 2);
      String[] portDb = hostRest[1].split("/", 2);
      s = new Socket(hostRest[0], Integer.parseInt(portDb[0]));
      s.setSoTimeout(10_000);
      CONN.set(s);
      write(s, "SELECT", portDb.length > 1 ? portDb[1] : "12");
      reply(s);
    }
    return s;
  }

  private static String command(String... parts) throws IOException {
    Socket s = socket();
    write(s, parts);
    return reply(s);
  }

  private static void write(Socket s, String... parts) throws IOException {
    StringBuilder b = new StringBuilder("*").append(parts.length).append("\r\n");
    for (String p : parts) {
      byte[] raw = p.getBytes(StandardCharsets.UTF_8);
      b.append('$').append(raw.length).append("\r\n").append(p).append("\r\n");
    }
    OutputStream out = s.getOutputStream();
    out.write(b.toString().getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** One simple reply line (+OK, :n or -ERR); an error reply fails the task. */
  private static String reply(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) != -1 && c != '\n') {
      if (c != '\r') {
        line.append((char) c);
      }
    }
    if (c == -1) {
      throw new IOException("redis closed the connection");
    }
    if (line.length() > 0 && line.charAt(0) == '-') {
      throw new IllegalStateException("redis: " + line);
    }
    return line.toString();
  }
}

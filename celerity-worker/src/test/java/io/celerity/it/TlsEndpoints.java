package io.celerity.it;

import io.celerity.support.Polling;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;

/**
 * Real TLS endpoints made by a test: a certificate authority and a server certificate for {@code
 * localhost} only (no IP address), generated with the openssl CLI; the JVM told to trust that CA
 * ({@code javax.net.ssl.trustStore}, restored on {@link #close()}); a TLS-terminating proxy in
 * front of the shared RabbitMQ; a redis-server of its own with {@code tls-port}. Connecting as
 * {@code localhost} names the certificate's host; connecting as {@code 127.0.0.1} reaches the same
 * server under a name the certificate does not hold.
 */
public final class TlsEndpoints implements AutoCloseable {

  private static final String PASSWORD = "changeit";
  private static final List<String> TRUST_PROPERTIES =
      List.of(
          "javax.net.ssl.trustStore",
          "javax.net.ssl.trustStorePassword",
          "javax.net.ssl.trustStoreType");

  private final Path dir;
  private final Map<String, String> savedProperties = new java.util.HashMap<>();
  private final List<AutoCloseable> running = new CopyOnWriteArrayList<>();

  public TlsEndpoints() throws Exception {
    dir = Files.createTempDirectory("celerity-tls");
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Celerity Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign");
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost");
    Files.writeString(
        dir.resolve("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
            + "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf");
    openssl(
        "pkcs12",
        "-export",
        "-in",
        "server.pem",
        "-inkey",
        "server.key",
        "-out",
        "server.p12",
        "-passout",
        "pass:" + PASSWORD);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream ca = Files.newInputStream(dir.resolve("ca.pem"))) {
      trust.setCertificateEntry(
          "celerity-test-ca", CertificateFactory.getInstance("X.509").generateCertificate(ca));
    }
    Path truststore = dir.resolve("trust.p12");
    try (OutputStream out = Files.newOutputStream(truststore)) {
      trust.store(out, PASSWORD.toCharArray());
    }
    for (String p : TRUST_PROPERTIES) {
      savedProperties.put(p, System.getProperty(p));
    }
    System.setProperty("javax.net.ssl.trustStore", truststore.toString());
    System.setProperty("javax.net.ssl.trustStorePassword", PASSWORD);
    System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");
  }

  private void openssl(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("openssl " + String.join(" ", args) + " failed:\n" + out);
    }
  }

  /**
   * A TLS-terminating proxy in front of {@code host:port}; returns the port it listens on
   * (127.0.0.1).
   */
  public int tlsProxy(String host, int port) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(dir.resolve("server.p12").toFile())) {
      ks.load(in, PASSWORD.toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, PASSWORD.toCharArray());
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    SSLServerSocket server =
        (SSLServerSocket)
            ctx.getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
    running.add(server);
    Thread acceptor =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket in = server.accept();
                  Socket out = new Socket(host, port);
                  running.add(in);
                  running.add(out);
                  pump(in, out);
                  pump(out, in);
                } catch (IOException closed) {
                  return;
                }
              }
            },
            "tls-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    return server.getLocalPort();
  }

  private static void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16384];
              try (from;
                  to) {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buf)) >= 0; ) {
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (IOException closed) {
                // either side went away (a refused handshake included): both close
              }
            },
            "tls-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  /**
   * A redis-server of this test's own, TLS only ({@code port 0}, {@code tls-port}); returns its
   * port.
   */
  public int redisTls() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    Process redis =
        new ProcessBuilder(
                "redis-server",
                "--port",
                "0",
                "--tls-port",
                String.valueOf(port),
                "--bind",
                "127.0.0.1",
                "--tls-cert-file",
                "server.pem",
                "--tls-key-file",
                "server.key",
                "--tls-ca-cert-file",
                "ca.pem",
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.toString())
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.log").toFile())
            .start();
    running.add(redis::destroyForcibly);
    int p = port;
    Polling.until(
        () -> {
          if (!redis.isAlive()) {
            throw new IllegalStateException(
                "redis-server exited:\n" + Files.readString(dir.resolve("redis.log")));
          }
          try (Socket s = new Socket(InetAddress.getLoopbackAddress(), p)) {
            return true;
          } catch (IOException notYet) {
            return false;
          }
        },
        20_000);
    return port;
  }

  @Override
  public void close() {
    for (AutoCloseable c : running) {
      try {
        c.close();
      } catch (Exception ignored) {
        // best effort
      }
    }
    savedProperties.forEach(
        (k, v) -> {
          if (v == null) {
            System.clearProperty(k);
          } else {
            System.setProperty(k, v);
          }
        });
    try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory
    }
  }
}

package io.celerity.transport;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS to brokers ({@code amqps://}, {@code rediss://}): the JVM's trust store (its CAs, or {@code
 * -Djavax.net.ssl.trustStore}) and the broker's host name checked against its certificate on every
 * connection. The host-name check lives in the trust manager itself, so it also holds where a
 * library builds the TLS socket and would not turn it on (the Vert.x RabbitMQ client's publishing
 * connection hands its context to a plain socket factory).
 */
public final class Tls {

  /** The JDK's name for RFC 2818 host-name checking. */
  public static final String HOSTNAME_VERIFICATION = "HTTPS";

  private Tls() {}

  /** The JVM's default trust, refusing a certificate that does not name the host connected to. */
  public static X509ExtendedTrustManager trustManager() {
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init((KeyStore) null);
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x) {
          return new HostnameChecking(x);
        }
      }
      throw new IllegalStateException("no X509 trust manager in the JVM");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot load the JVM's trust store: " + e.getMessage(), e);
    }
  }

  /**
   * {@link #trustManager()} for Vert.x clients, loaded when the client builds its TLS context (the
   * RabbitMQ client does so on a worker thread) rather than on the event loop that configures it.
   */
  public static io.vertx.core.net.TrustOptions vertxTrust() {
    return new io.vertx.core.net.TrustOptions() {
      @Override
      public io.vertx.core.net.TrustOptions copy() {
        return this;
      }

      @Override
      public TrustManagerFactory getTrustManagerFactory(io.vertx.core.Vertx vertx)
          throws Exception {
        return io.vertx.core.net.TrustOptions.wrap(trustManager()).getTrustManagerFactory(vertx);
      }

      @Override
      public java.util.function.Function<String, TrustManager[]> trustManagerMapper(
          io.vertx.core.Vertx vertx) {
        return null;
      }
    };
  }

  /** A TLS context with {@link #trustManager()}, for clients that take an {@link SSLContext}. */
  public static SSLContext context() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {trustManager()}, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
    }
  }

  /**
   * For {@code rediss://}: the server's certificate must name the host connected to (Vert.x checks
   * names only when told which algorithm, and refuses TLS connections without one).
   */
  public static io.vertx.redis.client.RedisOptions forRediss(
      io.vertx.redis.client.RedisOptions o, String url) {
    if (url.startsWith("rediss:")) {
      o.getNetClientOptions().setSsl(true).setHostnameVerificationAlgorithm(HOSTNAME_VERIFICATION);
    }
    return o;
  }

  /**
   * Turns the host-name check on for the socket or engine being handshaken, then lets the JDK
   * check.
   */
  private static final class HostnameChecking extends X509ExtendedTrustManager {

    private final X509ExtendedTrustManager jdk;

    HostnameChecking(X509ExtendedTrustManager jdk) {
      this.jdk = jdk;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      if (!(socket instanceof SSLSocket s)) {
        throw new CertificateException("the broker's host name cannot be checked on a " + socket);
      }
      s.setSSLParameters(hostnameChecked(s.getSSLParameters()));
      jdk.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      engine.setSSLParameters(hostnameChecked(engine.getSSLParameters()));
      jdk.checkServerTrusted(chain, authType, engine);
    }

    /**
     * The JDK's trust manager reads the algorithm from the handshaking socket's or engine's
     * parameters.
     */
    private static SSLParameters hostnameChecked(SSLParameters p) {
      p.setEndpointIdentificationAlgorithm(HOSTNAME_VERIFICATION);
      return p;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException(
          "the broker's host name cannot be checked without the connection");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      jdk.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      jdk.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      jdk.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return jdk.getAcceptedIssuers();
    }
  }
}

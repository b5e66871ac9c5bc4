package io.celerity.config;

/** URL helpers for logs and reports. */
public final class Urls {

  private Urls() {
  }

  /** The URL with its password replaced by {@code **}, as Celery prints broker URLs. */
  public static String redact(String url) {
    return url == null ? null : url.replaceAll("://([^:/@]*):[^@/]*@", "://$1:**@");
  }

  /** The scheme of a URL such as {@code memory://} that {@link java.net.URI} would refuse; null if none. */
  public static String scheme(String url) {
    int i = url == null ? -1 : url.indexOf("://");
    return i <= 0 ? null : url.substring(0, i);
  }

  /** The part after {@code scheme://} up to the next slash, e.g. the name of a {@code memory://name} broker. */
  public static String authority(String url) {
    int i = url.indexOf("://");
    String rest = i < 0 ? url : url.substring(i + 3);
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }

  /** True for addresses only this machine reaches. */
  public static boolean isLoopback(String host) {
    return host.equals("localhost") || host.equals("::1") || host.equals("[::1]") || host.startsWith("127.");
  }
}

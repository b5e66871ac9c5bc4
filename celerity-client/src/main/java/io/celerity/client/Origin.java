package io.celerity.client;

/**
 * Celery's {@code anon_nodename()}: {@code gen<pid>@<host>}, the {@code origin} of tasks a client
 * sends.
 */
final class Origin {

  static final String NAME = "gen" + ProcessHandle.current().pid() + "@" + host();

  private Origin() {}

  private static String host() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "localhost";
    }
  }
}

package io.celerity.config;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** URL helpers for logs and reports. */
public final class Urls {

  private Urls() {}

  /**
   * Where a URL starts: any scheme, known or not ({@code amqqp://} is redacted as well as {@code
   * amqp://}).
   */
  private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://");

  /**
   * The one redaction of the worker: every URL in {@code text} (a URL, a list such as {@code
   * sentinel://:pw@h1;sentinel://:pw@h2}, or a log line or error message that names URLs) with its
   * password replaced by {@code **}, as Celery prints broker URLs. A URL runs to the next white
   * space or the next {@code ;scheme://}; its password runs from the first {@code :} after the
   * scheme to the <em>last</em> {@code @}, so passwords holding {@code @}, {@code /} or {@code %2F}
   * are hidden whole (an {@code @} later in the path hides more, never less).
   */
  public static String redact(String text) {
    if (text == null || !text.contains("://")) {
      return text;
    }
    List<Integer> starts = new ArrayList<>();
    Matcher m = SCHEME.matcher(text);
    while (m.find()) {
      starts.add(m.start());
    }
    StringBuilder out = new StringBuilder(text.length());
    int copied = 0;
    for (int i = 0; i < starts.size(); i++) {
      int start = starts.get(i);
      if (start < copied) {
        continue;
      }
      int end = start;
      while (end < text.length() && !Character.isWhitespace(text.charAt(end))) {
        end++;
      }
      if (i + 1 < starts.size()
          && starts.get(i + 1) < end
          && text.charAt(starts.get(i + 1) - 1) == ';') {
        end = starts.get(i + 1) - 1;
      }
      int userinfo = text.indexOf("://", start) + 3;
      int at = text.lastIndexOf('@', end - 1);
      int colon = at < userinfo ? -1 : text.indexOf(':', userinfo);
      if (colon >= 0 && colon < at) {
        out.append(text, copied, colon + 1).append("**");
        copied = at;
      }
    }
    return out.append(text, copied, text.length()).toString();
  }

  /**
   * The scheme of a URL such as {@code memory://} that {@link java.net.URI} would refuse; null if
   * none.
   */
  public static String scheme(String url) {
    int i = url == null ? -1 : url.indexOf("://");
    return i <= 0 ? null : url.substring(0, i);
  }

  /**
   * The part after {@code scheme://} up to the next slash, e.g. the name of a {@code memory://name}
   * broker.
   */
  public static String authority(String url) {
    int i = url.indexOf("://");
    String rest = i < 0 ? url : url.substring(i + 3);
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }

  /** True for addresses only this machine reaches. */
  public static boolean isLoopback(String host) {
    return host.equals("localhost")
        || host.equals("::1")
        || host.equals("[::1]")
        || host.startsWith("127.");
  }
}

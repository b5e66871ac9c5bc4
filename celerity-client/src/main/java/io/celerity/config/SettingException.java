package io.celerity.config;

/**
 * A setting the worker cannot start with: an unknown key or {@code CELERITY_*} variable, a value of
 * the wrong type, a port already taken. The message names the key (and where it came from) and,
 * where one is close, the valid name or value that was probably meant; the CLI prints it without a
 * stack trace.
 */
public class SettingException extends IllegalArgumentException {

  public SettingException(String message) {
    super(message);
  }
}

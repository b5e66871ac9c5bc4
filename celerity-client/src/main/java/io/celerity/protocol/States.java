package io.celerity.protocol;

import java.util.Set;

/** Celery's task state names. */
public final class States {
  public static final String PENDING = "PENDING";
  public static final String RECEIVED = "RECEIVED";
  public static final String STARTED = "STARTED";
  public static final String SUCCESS = "SUCCESS";
  public static final String FAILURE = "FAILURE";
  public static final String RETRY = "RETRY";
  public static final String REVOKED = "REVOKED";

  /** The task raised {@code Reject}: nothing stored, the message rejected (or requeued). */
  public static final String REJECTED = "REJECTED";

  /**
   * The task raised {@code Ignore} (also {@code self.replace}): nothing stored, the message acked.
   */
  public static final String IGNORED = "IGNORED";

  public static final Set<String> READY = Set.of(SUCCESS, FAILURE, REVOKED);

  private States() {}
}

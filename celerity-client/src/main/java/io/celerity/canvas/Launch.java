package io.celerity.canvas;

import io.celerity.types.OutgoingMessage;

import java.util.List;
import java.util.Map;

/**
 * What starting a signature takes: the task messages to publish and, for chords, the chord sizes
 * to write to the result backend first ({@code celery-taskset-meta-<gid>.s}).
 *
 * @param id          id of the result to wait for: the task, the last task of a chain, the group, or the chord body
 * @param resultTuple Celery's result tuple of what was started (as listed in a parent's {@code children})
 * @param chordSizes  group id -> number of header tasks, to store before publishing
 * @param messages    the messages, in publishing order
 */
public record Launch(String id, Object resultTuple, Map<String, Integer> chordSizes, List<OutgoingMessage> messages) {

  /**
   * {@code sig.apply_async()} from a client: the messages to publish (and chord sizes to store
   * first), routed to {@code defaultQueue} unless a signature says otherwise.
   *
   * @param origin {@code origin} header, e.g. {@code gen<pid>@<host>}
   */
  public static Launch of(Signature sig, String origin, String defaultQueue) {
    Signature frozen = Canvas.freeze(sig);
    Applier a = new Applier(origin, defaultQueue, null, null, null);
    Object tuple = a.apply(frozen, null, Map.of());
    return new Launch(Canvas.resultId(frozen), tuple, a.chordSizes(), a.messages());
  }
}

package io.celerity.consumer;

import io.celerity.protocol.Json;
import io.celerity.types.RevokedSet;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --statedb FILE}: the revoked ids kept across restarts. Celery's file is a Python shelve
 * only Python can read and nobody else reads it, so ours is JSON with the same content: {@code
 * {"revoked": {id: epoch_millis}, "clock": n}}.
 *
 * <p>Each write goes to a temp file of its own in the same directory, is fsynced, and atomically
 * replaces the file (then the directory is fsynced), so a crash leaves the old or the new state,
 * never a torn one. Writes run on a worker thread, one at a time: a save asked for while one is
 * being written waits and is merged with any later ones (only the newest snapshot is written). A
 * file that cannot be read as a state file is not fatal: the worker starts with no revoked ids and
 * logs a warning (the next save replaces the file). Event-loop confined apart from the write
 * itself.
 */
public final class StateDb {

  private static final Logger log = LoggerFactory.getLogger("celery.worker.state");

  private final Vertx vertx;
  private final Path path;

  /** The newest state not yet handed to a write, and who waits for it; null when there is none. */
  private byte[] pendingState;

  private Promise<Void> pendingDone;
  private boolean writing;

  public StateDb(Vertx vertx, String path) {
    this.vertx = vertx;
    this.path = Path.of(path).toAbsolutePath();
  }

  /**
   * Loads the revoked ids into {@code into}; a missing file is an empty state, an unreadable one
   * too (with a warning).
   */
  @SuppressWarnings("unchecked")
  public Future<Void> load(RevokedSet into) {
    String name = path.toString();
    return vertx
        .fileSystem()
        .exists(name)
        .compose(
            exists -> {
              if (!exists) {
                return Future.succeededFuture();
              }
              return vertx
                  .fileSystem()
                  .readFile(name)
                  .map(
                      buf -> {
                        try {
                          Map<String, Object> state =
                              (Map<String, Object>) Json.parse(buf.getBytes());
                          Map<String, Object> revoked =
                              (Map<String, Object>) state.getOrDefault("revoked", Map.of());
                          RevokedSet read = new RevokedSet();
                          revoked.forEach((id, at) -> read.add(id, ((Number) at).longValue()));
                          read.snapshot().forEach(into::add);
                          into.purge();
                        } catch (IOException | RuntimeException e) {
                          log.warn(
                              "State file {} is unreadable ({}); starting with no revoked task ids, the file is replaced at the next save",
                              name,
                              e.getMessage());
                        }
                        return null;
                      });
            });
  }

  /** Saves the revoked ids; completes once a write holding them (or a newer state) is on disk. */
  public Future<Void> save(RevokedSet revoked, long clock) {
    Map<String, Object> state = new LinkedHashMap<>();
    state.put("revoked", revoked.snapshot());
    state.put("clock", clock);
    pendingState = Json.encode(state);
    if (pendingDone == null) {
      pendingDone = Promise.promise();
    }
    Future<Void> done = pendingDone.future();
    if (!writing) {
      writeNext();
    }
    return done;
  }

  private void writeNext() {
    if (pendingState == null) {
      writing = false;
      return;
    }
    writing = true;
    byte[] bytes = pendingState;
    Promise<Void> done = pendingDone;
    pendingState = null;
    pendingDone = null;
    vertx
        .<Void>executeBlocking(
            () -> {
              writeAtomically(bytes);
              return null;
            },
            false)
        .onComplete(
            ar -> {
              done.handle(ar);
              writeNext();
            });
  }

  private void writeAtomically(byte[] bytes) throws IOException {
    Path dir = path.getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, path.getFileName() + ".", ".tmp");
    try {
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true); // the rename itself survives a crash
    } catch (IOException e) {
      // some file systems cannot open or sync a directory; the file's content is synced already
    }
  }
}

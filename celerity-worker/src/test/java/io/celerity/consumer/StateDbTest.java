package io.celerity.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.celerity.types.RevokedSet;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --statedb}: revokes in quick succession all reach the file, and a damaged file does not
 * stop the worker.
 */
@ExtendWith(VertxExtension.class)
class StateDbTest {

  @TempDir Path dir;

  private static void await(VertxTestContext test) throws Throwable {
    assertTrue(test.awaitCompletion(20, TimeUnit.SECONDS), "timed out");
    if (test.failed()) {
      throw test.causeOfFailure();
    }
  }

  /**
   * The state is saved after every revoke; many revokes at once must all succeed and end up on
   * disk.
   */
  @Test
  void savesInQuickSuccessionAllSucceedAndTheLastStateWins(Vertx vertx, VertxTestContext test)
      throws Throwable {
    Path file = dir.resolve("worker.state");
    RevokedSet revoked = new RevokedSet();
    List<Future<Void>> saves = new ArrayList<>();
    vertx.runOnContext(
        v -> {
          StateDb db = new StateDb(vertx, file.toString());
          for (int i = 0; i < 30; i++) {
            revoked.add("id-" + i);
            saves.add(db.save(revoked, 0));
          }
          Future.all(saves)
              .compose(
                  x -> {
                    RevokedSet loaded = new RevokedSet();
                    return new StateDb(vertx, file.toString()).load(loaded).map(loaded);
                  })
              .onComplete(
                  test.succeeding(
                      loaded ->
                          test.verify(
                              () -> {
                                assertEquals(30, loaded.size());
                                assertTrue(loaded.contains("id-0") && loaded.contains("id-29"));
                                try (Stream<Path> left = Files.list(dir)) {
                                  assertEquals(
                                      List.of(file), left.toList(), "no temp files left behind");
                                }
                                test.completeNow();
                              })));
        });
    await(test);
  }

  @Test
  void aTruncatedFileStartsWithNoRevokedIds(Vertx vertx, VertxTestContext test) throws Throwable {
    Path file = dir.resolve("worker.state");
    Files.writeString(file, "{\"revoked\": {\"a\": 17000", StandardCharsets.UTF_8);
    RevokedSet into = new RevokedSet();
    new StateDb(vertx, file.toString())
        .load(into)
        .onComplete(
            test.succeeding(
                v ->
                    test.verify(
                        () -> {
                          assertEquals(0, into.size());
                          test.completeNow();
                        })));
    await(test);
  }

  @Test
  void aFileThatIsNotAStateFileStartsWithNoRevokedIdsAndIsReplacedAtTheNextSave(
      Vertx vertx, VertxTestContext test) throws Throwable {
    Path file = dir.resolve("worker.state");
    Files.writeString(file, "[1, 2, 3]", StandardCharsets.UTF_8);
    RevokedSet into = new RevokedSet();
    vertx.runOnContext(
        x -> {
          StateDb db = new StateDb(vertx, file.toString());
          db.load(into)
              .compose(
                  v -> {
                    test.verify(() -> assertEquals(0, into.size()));
                    into.add("later");
                    return db.save(into, 0);
                  })
              .compose(
                  v -> {
                    RevokedSet again = new RevokedSet();
                    return db.load(again).map(again);
                  })
              .onComplete(
                  test.succeeding(
                      again ->
                          test.verify(
                              () -> {
                                assertTrue(again.contains("later"));
                                test.completeNow();
                              })));
        });
    await(test);
  }
}

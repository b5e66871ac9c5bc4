package io.celerity.support;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Files of the repository (docs/, deploy/, bench/), found from whichever module directory Maven
 * runs tests in.
 */
public final class ProjectFiles {

  private ProjectFiles() {}

  /**
   * The repository root: the nearest directory up from the working directory that holds {@code
   * .ci/run}.
   */
  public static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve(".ci").resolve("run"))) {
        return d;
      }
    }
    throw new IllegalStateException("no .ci/run above " + dir);
  }

  public static Path path(String relative) {
    return root().resolve(relative);
  }
}

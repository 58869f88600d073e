package dev.knowable.model;

import java.nio.file.Path;
import java.nio.file.Paths;

/** Paths of the fixture models (made by tools/make_fixtures.py) and the demo family. */
public final class TestModels {
  private TestModels() {}

  /** A fixture model, read from the source tree so other modules' tests find it too. */
  public static Path fixture(String name) {
    Path p = repoRoot().resolve("common/src/test/resources/models").resolve(name);
    if (!p.toFile().isDirectory()) {
      throw new IllegalStateException("Fixture model " + p + " is missing (tools/make_fixtures.py makes it)");
    }
    return p;
  }

  /** The repository root (tests run with the module folder as working directory). */
  public static Path repoRoot() {
    Path p = Paths.get("").toAbsolutePath();
    while (p != null && !p.resolve("data-schemas").toFile().isDirectory()) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("Cannot find the repository root above " + Paths.get("").toAbsolutePath());
    }
    return p;
  }

  /** demo/models/&lt;name&gt; (the trained tiny family). */
  public static Path demo(String name) {
    return repoRoot().resolve("demo/models").resolve(name);
  }
}

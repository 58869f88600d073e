package dev.knowable.model;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Paths of the fixture models (made by tools/make_fixtures.py) and the demo family. */
public final class TestModels {
  private TestModels() {}

  public static Path fixture(String name) {
    try {
      return Paths.get(TestModels.class.getClassLoader().getResource("models/" + name).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("Fixture model " + name + " missing from test resources", e);
    }
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

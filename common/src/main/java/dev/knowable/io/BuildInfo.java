package dev.knowable.io;

import java.util.LinkedHashMap;
import java.util.Map;

/** Versions recorded in every run manifest (the jobs add the engine's, e.g. Spark's). */
public final class BuildInfo {
  private BuildInfo() {}

  public static Map<String, Object> versions() {
    Map<String, Object> v = new LinkedHashMap<>();
    String pkg = BuildInfo.class.getPackage().getImplementationVersion();
    v.put("knowable", pkg == null ? "dev" : pkg);
    // The launcher exports the git revision; spark-submit users may set it too.
    String rev = System.getenv("KNOWABLE_GIT_REVISION");
    v.put("git_revision", rev == null || rev.isBlank() ? "unknown" : rev);
    v.put("java", System.getProperty("java.version"));
    return v;
  }
}

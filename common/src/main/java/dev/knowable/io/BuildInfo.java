package dev.knowable.io;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** Versions recorded in every run manifest. */
public final class BuildInfo {
  private BuildInfo() {}

  public static Map<String, Object> versions(SparkSession spark) {
    Map<String, Object> v = new LinkedHashMap<>();
    String pkg = BuildInfo.class.getPackage().getImplementationVersion();
    v.put("knowable", pkg == null ? "dev" : pkg);
    // The launcher exports the git revision; spark-submit users may set it too.
    String rev = System.getenv("KNOWABLE_GIT_REVISION");
    v.put("git_revision", rev == null || rev.isBlank() ? "unknown" : rev);
    v.put("spark", spark.version());
    v.put("java", System.getProperty("java.version"));
    return v;
  }
}

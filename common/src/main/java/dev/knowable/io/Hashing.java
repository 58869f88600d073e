package dev.knowable.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Stable hashes: the same value on every JVM, every run and in the Python tools. */
public final class Hashing {
  private Hashing() {}

  /** SHA-256 of the UTF-8 bytes, as lower-case hex. */
  public static String sha256Hex(String s) {
    return HexFormat.of().formatHex(sha256(s.getBytes(StandardCharsets.UTF_8)));
  }

  /** SHA-256 of a file's bytes, as lower-case hex (a tokenizer or model fingerprint). */
  public static String sha256Hex(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = digest();
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read " + file + " to fingerprint it: " + e.getMessage(), e);
    }
  }

  /**
   * A uniform number in [0, 1) from SHA-256(salt + ":" + key): the first 8 bytes as an
   * unsigned integer divided by 2^64. Used for splits and shards, so both are stable
   * across runs and cluster sizes.
   */
  public static double unitInterval(String salt, String key) {
    byte[] h = sha256((salt + ":" + key).getBytes(StandardCharsets.UTF_8));
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (h[i] & 0xffL);
    }
    // Unsigned 64-bit value scaled to [0, 1): use the top 53 bits (a double's mantissa).
    return (v >>> 11) * 0x1.0p-53;
  }

  private static byte[] sha256(byte[] bytes) {
    return digest().digest(bytes);
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}

package dev.knowable.iclt;

import java.util.Arrays;
import java.util.Objects;

/**
 * Token ids placed between the hinted prompt and its repetition in an ICLT sequence
 * ({@code prompt + candidate + separator + prompt}); may be empty.
 *
 * @param name how results name this separator, e.g. "dot-eos" or "none"
 * @param ids the separator's token ids (copied)
 */
public record Separator(String name, int[] ids) implements java.io.Serializable {
  public Separator {
    Objects.requireNonNull(name, "name");
    ids = ids.clone();
  }

  /** Copy of the ids: the record stays immutable. */
  @Override
  public int[] ids() {
    return ids.clone();
  }

  public int length() {
    return ids.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Separator s && name.equals(s.name) && Arrays.equals(ids, s.ids);
  }

  @Override
  public int hashCode() {
    return 31 * name.hashCode() + Arrays.hashCode(ids);
  }

  @Override
  public String toString() {
    return "Separator[" + name + "=" + Arrays.toString(ids) + "]";
  }
}

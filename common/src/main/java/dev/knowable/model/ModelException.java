package dev.knowable.model;

/** A model that is missing, malformed or breaks the model contract (docs/MODEL_CONTRACT.md). */
public final class ModelException extends RuntimeException {
  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}

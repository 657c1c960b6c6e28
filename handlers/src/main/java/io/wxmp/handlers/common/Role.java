package io.wxmp.handlers.common;

/** A merchant account's role: owner does everything, editor everything but refunds, analyst only reads. */
public enum Role {
  OWNER, EDITOR, ANALYST;

  public String wire() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static Role fromWire(String value) {
    return Role.valueOf(value.toUpperCase(java.util.Locale.ROOT));
  }
}

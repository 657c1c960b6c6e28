package io.wxmp.handlers.common;

/**
 * The merchant account a merchant token belongs to. Every admin query is scoped to {@link #merchantId()}; handlers
 * call {@link #requireWriter()} or {@link #requireOwner()} before changing anything.
 */
public record MerchantPrincipal(long accountId, long merchantId, Role role) {
  /** Owners and editors may write; analysts only read. */
  public void requireWriter() {
    if (role == Role.ANALYST) {
      throw ApiException.forbidden();
    }
  }

  public void requireOwner() {
    if (role != Role.OWNER) {
      throw ApiException.forbidden();
    }
  }
}

package io.wxmp.handlers.common;

/**
 * The merchant account a merchant token belongs to. Every admin query is scoped to {@link #merchantId()}; handlers
 * call {@link #requireWriter()} or {@link #requireOwner()} before changing anything. A token whose account still has
 * its one-time password ({@code mustChangePassword}) opens only {@code POST /admin/password}.
 */
public record MerchantPrincipal(long accountId, long merchantId, Role role, boolean mustChangePassword) {
  public MerchantPrincipal(long accountId, long merchantId, Role role) {
    this(accountId, merchantId, role, false);
  }

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

package io.wxmp.handlers.admin;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.Role;

/** SQL for merchant accounts. */
public final class MerchantAccountRepository {
  private static final String BY_USERNAME = """
      SELECT a.id, a.merchant_id, a.password_hash, a.role, m.name AS merchant_name
      FROM merchant_accounts a JOIN merchants m ON m.id = a.merchant_id
      WHERE lower(a.username) = lower($1)""";

  private final Pool pg;

  public MerchantAccountRepository(Pool pg) {
    this.pg = pg;
  }

  public record Account(long id, long merchantId, String merchantName, String passwordHash, Role role) {}

  public Future<Account> byUsername(String username) {
    return pg.preparedQuery(BY_USERNAME).execute(Tuple.of(username)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row r = rows.iterator().next();
      return new Account(r.getLong("id"), r.getLong("merchant_id"), r.getString("merchant_name"),
          r.getString("password_hash"), Role.fromWire(r.getString("role")));
    });
  }
}

package io.wxmp.handlers.admin;

import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.Role;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/** SQL for merchant accounts, always scoped to a merchant except for the login lookup. */
public final class MerchantAccountRepository {
  private static final String COLUMNS = """
      a.id, a.merchant_id, a.username, a.password_hash, a.role, a.must_change_password, a.disabled, a.created_at,
      m.name AS merchant_name, m.status AS merchant_status""";
  private static final String FROM = " FROM merchant_accounts a JOIN merchants m ON m.id = a.merchant_id ";
  private static final String BY_USERNAME = "SELECT " + COLUMNS + FROM + "WHERE lower(a.username) = lower($1)";
  private static final String BY_ID = "SELECT " + COLUMNS + FROM + "WHERE a.id = $1";
  private static final String BY_ID_FOR_MERCHANT = "SELECT " + COLUMNS + FROM + "WHERE a.id = $1 AND a.merchant_id = $2";
  private static final String LIST = "SELECT " + COLUMNS + FROM
      + "WHERE a.merchant_id = $1 AND ($2::bigint IS NULL OR a.id < $2) ORDER BY a.id DESC LIMIT $3";
  private static final String INSERT = """
      INSERT INTO merchant_accounts (merchant_id, username, password_hash, role, must_change_password)
      VALUES ($1, $2, $3, $4, true) RETURNING id""";
  private static final String UPDATE = """
      UPDATE merchant_accounts SET role = $3, disabled = $4 WHERE id = $1 AND merchant_id = $2""";
  private static final String ENABLED_OWNERS = """
      SELECT count(*) FROM merchant_accounts WHERE merchant_id = $1 AND role = 'owner' AND NOT disabled""";
  private static final String SET_PASSWORD = """
      UPDATE merchant_accounts SET password_hash = $2, must_change_password = false, password_changed_at = now()
      WHERE id = $1""";
  private static final String IDS_OF_MERCHANT = "SELECT id FROM merchant_accounts WHERE merchant_id = $1";

  private final Pool pg;

  public MerchantAccountRepository(Pool pg) {
    this.pg = pg;
  }

  public Pool pool() {
    return pg;
  }

  public record Account(long id, long merchantId, String merchantName, String username, String passwordHash,
      Role role, boolean mustChangePassword, boolean disabled, boolean merchantSuspended, OffsetDateTime createdAt) {}

  public Future<Account> byUsername(String username) {
    return pg.preparedQuery(BY_USERNAME).execute(Tuple.of(username)).map(MerchantAccountRepository::first);
  }

  public Future<Account> byId(long id) {
    return pg.preparedQuery(BY_ID).execute(Tuple.of(id)).map(MerchantAccountRepository::first);
  }

  public Future<Account> byIdForMerchant(SqlClient client, long id, long merchantId) {
    return client.preparedQuery(BY_ID_FOR_MERCHANT + " FOR UPDATE OF a").execute(Tuple.of(id, merchantId))
        .map(MerchantAccountRepository::first);
  }

  public Future<List<Account>> list(long merchantId, Long beforeId, int limit) {
    return pg.preparedQuery(LIST).execute(Tuple.of(merchantId, beforeId, limit)).map(rows -> {
      List<Account> out = new ArrayList<>();
      rows.forEach(r -> out.add(account(r)));
      return out;
    });
  }

  /** The new account's id (its password must be changed at first login), or null when the username is taken. */
  public Future<Long> insert(SqlClient tx, long merchantId, String username, String passwordHash, Role role) {
    return tx.preparedQuery(INSERT).execute(Tuple.of(merchantId, username, passwordHash, role.wire()))
        .map(rows -> rows.iterator().next().getLong(0))
        .recover(failure -> failure instanceof PgException e && "23505".equals(e.getSqlState())
            ? Future.succeededFuture(null) : Future.failedFuture(failure));
  }

  public Future<Void> update(SqlClient tx, long id, long merchantId, Role role, boolean disabled) {
    return tx.preparedQuery(UPDATE).execute(Tuple.of(id, merchantId, role.wire(), disabled)).mapEmpty();
  }

  public Future<Long> enabledOwners(SqlClient tx, long merchantId) {
    return tx.preparedQuery(ENABLED_OWNERS).execute(Tuple.of(merchantId)).map(r -> r.iterator().next().getLong(0));
  }

  public Future<Void> setPassword(SqlClient tx, long id, String passwordHash) {
    return tx.preparedQuery(SET_PASSWORD).execute(Tuple.of(id, passwordHash)).mapEmpty();
  }

  public Future<List<Long>> idsOfMerchant(SqlClient client, long merchantId) {
    return client.preparedQuery(IDS_OF_MERCHANT).execute(Tuple.of(merchantId)).map(rows -> {
      List<Long> out = new ArrayList<>();
      rows.forEach(r -> out.add(r.getLong(0)));
      return out;
    });
  }

  private static Account first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : account(rows.iterator().next());
  }

  private static Account account(Row r) {
    return new Account(r.getLong("id"), r.getLong("merchant_id"), r.getString("merchant_name"),
        r.getString("username"), r.getString("password_hash"), Role.fromWire(r.getString("role")),
        r.getBoolean("must_change_password"), r.getBoolean("disabled"),
        "suspended".equals(r.getString("merchant_status")), r.getOffsetDateTime("created_at"));
  }
}

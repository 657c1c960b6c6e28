package io.wxmp.handlers.platform;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/** SQL for merchants as operators see them. */
public final class MerchantRepository {
  private static final String COLUMNS = """
      m.id, m.name, m.status, m.created_at, m.status_changed_at,
      (SELECT count(*) FROM merchant_accounts a WHERE a.merchant_id = m.id) AS accounts""";
  private static final String INSERT = "INSERT INTO merchants (name) VALUES ($1) RETURNING id";
  private static final String BY_ID = "SELECT " + COLUMNS + " FROM merchants m WHERE m.id = $1";
  private static final String LIST = "SELECT " + COLUMNS + """
       FROM merchants m WHERE ($1::text IS NULL OR m.status = $1) AND ($2::bigint IS NULL OR m.id < $2)
      ORDER BY m.id DESC LIMIT $3""";
  private static final String LOCK = "SELECT status FROM merchants WHERE id = $1 FOR UPDATE";
  private static final String SET_STATUS = """
      UPDATE merchants SET status = $2, status_changed_at = now() WHERE id = $1""";

  private final Pool pg;

  public MerchantRepository(Pool pg) {
    this.pg = pg;
  }

  public Pool pool() {
    return pg;
  }

  public record Merchant(long id, String name, String status, OffsetDateTime createdAt, OffsetDateTime statusChangedAt,
      long accounts) {}

  public Future<Long> insert(SqlClient tx, String name) {
    return tx.preparedQuery(INSERT).execute(Tuple.of(name)).map(rows -> rows.iterator().next().getLong(0));
  }

  public Future<Merchant> byId(SqlClient client, long id) {
    return client.preparedQuery(BY_ID).execute(Tuple.of(id)).map(MerchantRepository::first);
  }

  public Future<List<Merchant>> list(String status, Long beforeId, int limit) {
    return pg.preparedQuery(LIST).execute(Tuple.of(status, beforeId, limit)).map(rows -> {
      List<Merchant> out = new ArrayList<>();
      rows.forEach(r -> out.add(merchant(r)));
      return out;
    });
  }

  /** The status before, under a row lock; null when there is no such merchant. */
  public Future<String> lockStatus(SqlClient tx, long id) {
    return tx.preparedQuery(LOCK).execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString(0));
  }

  public Future<Void> setStatus(SqlClient tx, long id, String status) {
    return tx.preparedQuery(SET_STATUS).execute(Tuple.of(id, status)).mapEmpty();
  }

  private static Merchant first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : merchant(rows.iterator().next());
  }

  private static Merchant merchant(Row r) {
    return new Merchant(r.getLong("id"), r.getString("name"), r.getString("status"), r.getOffsetDateTime("created_at"),
        r.getOffsetDateTime("status_changed_at"), r.getLong("accounts"));
  }
}

package io.wxmp.handlers.platform;

import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/** SQL for platform operators. */
public final class OperatorRepository {
  private static final String BY_USERNAME = """
      SELECT id, username, password_hash, disabled FROM operators WHERE lower(username) = lower($1)""";
  private static final String INSERT = """
      INSERT INTO operators (username, password_hash) VALUES ($1, $2) RETURNING id""";
  private static final String UPSERT_PASSWORD = """
      INSERT INTO operators (username, password_hash) VALUES ($1, $2)
      ON CONFLICT (lower(username)) DO UPDATE SET password_hash = EXCLUDED.password_hash, disabled = false
      RETURNING id""";

  private final SqlClient pg;

  public OperatorRepository(SqlClient pg) {
    this.pg = pg;
  }

  public record Operator(long id, String username, String passwordHash, boolean disabled) {}

  public Future<Operator> byUsername(String username) {
    return pg.preparedQuery(BY_USERNAME).execute(Tuple.of(username)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row r = rows.iterator().next();
      return new Operator(r.getLong("id"), r.getString("username"), r.getString("password_hash"),
          r.getBoolean("disabled"));
    });
  }

  /** The new operator's id, or null when the username is taken (case-insensitively). */
  public Future<Long> insert(String username, String passwordHash) {
    return pg.preparedQuery(INSERT).execute(Tuple.of(username, passwordHash))
        .map(rows -> rows.iterator().next().getLong(0))
        .recover(failure -> failure instanceof PgException pg && "23505".equals(pg.getSqlState())
            ? Future.succeededFuture(null) : Future.failedFuture(failure));
  }

  /** Creates the operator or gives it a new password (dev mode's demo operator, at every start). */
  public Future<Long> upsertPassword(String username, String passwordHash) {
    return pg.preparedQuery(UPSERT_PASSWORD).execute(Tuple.of(username, passwordHash))
        .map(rows -> rows.iterator().next().getLong(0));
  }
}

package io.wxmp.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.TestStack;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The points balance that {@code GET /me} shows is {@code users.points}, kept equal to the sum of the user's ledger
 * rows by the V5 trigger in the same transaction as each ledger write; V5 also filled it in for existing ledgers.
 */
class PointsBalanceTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  private long userId(String token) {
    return Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id"));
  }

  /** The balance /me shows once the ledger rows this test wrote behind the server's back are known to its cache. */
  private long points(String token) {
    stack.profileChanged(userId(token));
    return stack.api.get("/api/v1/me", token).json().getLong("points");
  }

  @Test
  void balanceFollowsTheLedgerInTheSameTransaction() {
    String token = stack.newUserToken();
    long user = userId(token);
    assertThat(points(token)).isZero();
    String tag = UUID.randomUUID().toString();
    stack.sql("INSERT INTO points_ledger (user_id, source_key, delta, reason) VALUES ($1, $2, 30, 'test'), "
        + "($1, $3, 12, 'test')", Tuple.of(user, "t:" + tag + ":1", "t:" + tag + ":2"));
    assertThat(points(token)).isEqualTo(42);
    stack.sql("INSERT INTO points_ledger (user_id, source_key, delta, reason) VALUES ($1, $2, -5, 'test')",
        Tuple.of(user, "t:" + tag + ":3"));
    assertThat(points(token)).isEqualTo(37);

    // a statement that fails (the same source awarding twice) changes neither the ledger nor the balance
    assertThatThrownBy(() -> stack.sql("INSERT INTO points_ledger (user_id, source_key, delta, reason) "
        + "VALUES ($1, $2, 100, 'test'), ($1, $3, 100, 'test')", Tuple.of(user, "t:" + tag + ":4", "t:" + tag + ":1")))
        .hasMessageContaining("source_key");
    assertThat(points(token)).isEqualTo(37);

    // concurrent awards to one user all count (the trigger's UPDATE takes the user's row lock)
    List<io.vertx.core.Future<?>> awards = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      awards.add(stack.db.preparedQuery("INSERT INTO points_ledger (user_id, source_key, delta, reason) "
          + "VALUES ($1, $2, 1, 'test')").execute(Tuple.of(user, "t:" + tag + ":c" + i)));
    }
    try {
      io.vertx.core.Future.all(awards).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertThat(points(token)).isEqualTo(77);
    assertThat(stack.count("SELECT sum(delta) FROM points_ledger WHERE user_id = $1", Tuple.of(user))).isEqualTo(77);

    assertThatThrownBy(() -> stack.sql("TRUNCATE points_ledger", Tuple.tuple())).hasMessageContaining("truncate");
  }

  @Test
  void everyUsersBalanceIsItsLedgerSum() {
    String token = stack.newUserToken();
    stack.sql("INSERT INTO points_ledger (user_id, source_key, delta, reason) VALUES ($1, $2, 9, 'test')",
        Tuple.of(userId(token), "t:" + UUID.randomUUID()));
    assertThat(stack.count("""
        SELECT count(*) FROM users u
        WHERE u.points <> COALESCE((SELECT sum(delta) FROM points_ledger p WHERE p.user_id = u.id), 0)""",
        Tuple.tuple())).isZero();
  }

  /** A database migrated before V5 with ledgers in it: V5 fills in every user's balance. */
  @Test
  void migrationFillsInExistingBalances() throws Exception {
    PgConnectOptions pg = PgConnectOptions.fromUri(stack.settings.get("WXMP_PG_URL"));
    String db = "points_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String base = "jdbc:postgresql://" + pg.getHost() + ":" + pg.getPort() + "/";
    try (Connection c = DriverManager.getConnection(base + pg.getDatabase(), pg.getUser(), pg.getPassword());
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + db);
    }
    try {
      Flyway.configure().dataSource(base + db, pg.getUser(), pg.getPassword())
          .locations("classpath:db/migration").target("4").load().migrate();
      try (Connection c = DriverManager.getConnection(base + db, pg.getUser(), pg.getPassword());
          Statement s = c.createStatement()) {
        s.execute("INSERT INTO users (openid) VALUES ('a'), ('b'), ('c')");
        s.execute("""
            INSERT INTO points_ledger (user_id, source_key, delta, reason)
            SELECT u.id, u.openid || ':' || g, g, 'old' FROM users u, generate_series(1, 10) g WHERE u.openid = 'a'""");
        s.execute("""
            INSERT INTO points_ledger (user_id, source_key, delta, reason)
            SELECT id, 'b:1', -3, 'old' FROM users WHERE openid = 'b'""");
      }
      Flyway.configure().dataSource(base + db, pg.getUser(), pg.getPassword())
          .locations("classpath:db/migration").outOfOrder(true).load().migrate();
      try (Connection c = DriverManager.getConnection(base + db, pg.getUser(), pg.getPassword());
          Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT openid, points FROM users ORDER BY openid")) {
        List<String> balances = new ArrayList<>();
        while (r.next()) {
          balances.add(r.getString(1) + "=" + r.getLong(2));
        }
        assertThat(balances).containsExactly("a=55", "b=-3", "c=0");
      }
    } finally {
      try (Connection c = DriverManager.getConnection(base + pg.getDatabase(), pg.getUser(), pg.getPassword());
          Statement s = c.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      }
    }
  }
}

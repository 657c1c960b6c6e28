package io.wxmp.server;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.flywaydb.core.Flyway;

/** PostgreSQL: the URL setting, the Flyway migrations of {@code schema/}, and the reactive pool. */
final class Database {
  private final PgConnectOptions connect;

  private Database(PgConnectOptions connect) {
    this.connect = connect;
  }

  static Database from(Settings settings) {
    String url = settings.required("WXMP_PG_URL");
    if (!url.startsWith("postgresql://") && !url.startsWith("postgres://")) {
      throw new Settings.ConfigException("WXMP_PG_URL: must look like postgresql://user:password@host:5432/database");
    }
    try {
      return new Database(PgConnectOptions.fromUri(url));
    } catch (RuntimeException e) {
      throw new Settings.ConfigException("WXMP_PG_URL: cannot parse (" + e.getMessage() + ")");
    }
  }

  /** Blocking: run it before the pool serves requests. */
  void migrate() {
    String jdbc = "jdbc:postgresql://" + connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase();
    Flyway.configure()
        .dataSource(jdbc, connect.getUser(), connect.getPassword())
        .locations("classpath:db/migration")
        // Features own disjoint version ranges (V10-V19 feed, V50-V59 stats, ...) and land in any order: a database
        // that already has V51 must still take a V20 that landed later.
        .outOfOrder(true)
        .load()
        .migrate();
  }

  Pool pool(Vertx vertx, int size) {
    return PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(size).setMaxWaitQueueSize(size * 64).setConnectionTimeout(5))
        .connectingTo(connect)
        .using(vertx)
        .build();
  }
}

package io.wxmp.server;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.flywaydb.core.Flyway;

/** PostgreSQL: the URL setting, the Flyway migrations of {@code schema/}, and the reactive pool. */
final class Database {
  /** pgjdbc's TCP connect and whole-login deadlines for the migrations, unless the URL sets its own. */
  private static final int CONNECT_TIMEOUT_SEC = 5;
  private static final int LOGIN_TIMEOUT_SEC = 10;

  private final PgConnectOptions connect;
  private final String jdbcUrl;

  private Database(PgConnectOptions connect, String jdbcUrl) {
    this.connect = connect;
    this.jdbcUrl = jdbcUrl;
  }

  static Database from(Settings settings) {
    String url = settings.string("WXMP_PG_URL");
    if (url == null) {
      throw new Settings.ConfigException("WXMP_PG_URL: required but not set (for dev mode, with an embedded "
          + "PostgreSQL and Redis and the WeChat sandbox, set WXMP_MODE=dev)");
    }
    if (!url.startsWith("postgresql://") && !url.startsWith("postgres://")) {
      throw new Settings.ConfigException("WXMP_PG_URL: must look like postgresql://user:password@host:5432/database");
    }
    try {
      return new Database(PgConnectOptions.fromUri(url), jdbcUrl(url));
    } catch (RuntimeException e) {
      throw new Settings.ConfigException("WXMP_PG_URL: cannot parse (" + e.getMessage() + ")");
    }
  }

  /**
   * The URL Flyway's JDBC driver gets: the same hosts, database and parameters as {@code WXMP_PG_URL} ({@code sslmode},
   * {@code sslrootcert}, ...), without the user and password (passed apart, already decoded), and with connect and
   * login deadlines unless the URL sets its own, so that an unreachable or mute server fails start-up in seconds.
   */
  static String jdbcUrl(String url) {
    String rest = url.substring(url.indexOf("://") + 3);
    int end = rest.length();
    for (char c : new char[] {'/', '?'}) {
      int i = rest.indexOf(c);
      if (i >= 0 && i < end) {
        end = i;
      }
    }
    String authority = rest.substring(0, end);
    String tail = rest.substring(end);
    int at = authority.lastIndexOf('@');
    String hosts = at >= 0 ? authority.substring(at + 1) : authority;
    StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(hosts);
    String path = tail;
    String query = "";
    int q = tail.indexOf('?');
    if (q >= 0) {
      path = tail.substring(0, q);
      query = tail.substring(q + 1);
    }
    jdbc.append(path.isEmpty() ? "/" : path);
    java.util.List<String> params = new java.util.ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (String param : query.split("&")) {
      if (param.isEmpty()) {
        continue;
      }
      String name = param.contains("=") ? param.substring(0, param.indexOf('=')) : param;
      if (name.equals("user") || name.equals("password")) {
        continue; // passed apart
      }
      names.add(name);
      params.add(param);
    }
    if (!names.contains("connectTimeout")) {
      params.add("connectTimeout=" + CONNECT_TIMEOUT_SEC);
    }
    if (!names.contains("loginTimeout")) {
      params.add("loginTimeout=" + LOGIN_TIMEOUT_SEC);
    }
    return jdbc.append('?').append(String.join("&", params)).toString();
  }

  /** Where the database is, for messages (no user or password). */
  String where() {
    return connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase();
  }

  /**
   * Blocking: run it before the pool serves requests. A server that cannot be reached or refuses the login fails with
   * a {@link StartupFailure} naming the cause.
   */
  void migrate() {
    Flyway flyway = Flyway.configure()
        .dataSource(jdbcUrl, connect.getUser(), connect.getPassword())
        .locations("classpath:db/migration")
        // Features own disjoint version ranges (V10-V19 feed, V50-V59 stats, ...) and land in any order: a database
        // that already has V51 must still take a V20 that landed later.
        .outOfOrder(true)
        .load();
    java.sql.SQLException cannotConnect;
    try (java.sql.Connection c = flyway.getConfiguration().getDataSource().getConnection()) {
      cannotConnect = null;
    } catch (java.sql.SQLException e) {
      cannotConnect = e;
    }
    if (cannotConnect != null) {
      throw new StartupFailure("cannot connect to PostgreSQL at " + where() + " (WXMP_PG_URL): "
          + rootCause(cannotConnect));
    }
    flyway.migrate();
  }

  private static String rootCause(Throwable e) {
    String message = e.getMessage();
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        message = message + ": " + t.getClass().getSimpleName() + " " + t.getMessage();
      }
    }
    return message;
  }

  /**
   * The pool, every statement bounded by {@code queryTimeoutMs}: PostgreSQL cancels a statement running longer
   * ({@code statement_timeout}), and a statement that gets no answer at all (a stalled server or network) has its
   * connection closed a little later ({@link BoundedPool}). Taking a connection waits as long at most, behind a
   * bounded queue; past either bound the request answers 503 at once rather than queueing without end.
   *
   * <p>That wait is {@link BoundedPool}'s alone: the pool's own ({@code PoolOptions.connectionTimeout}) is off. Its
   * timer raced the hand-off of a connection to a waiter queued from another event loop: Vert.x's pool reported the
   * waiter cancelled although it had its connection, and vertx-sql-client failed the acquisition it had completed,
   * an {@code IllegalStateException: Promise already completed} on an event loop ("Unhandled exception") a
   * connectionTimeout after requests that had succeeded (seen a few times per feed benchmark run).
   * {@link BoundedPool} gives a connection that arrives after its deadline straight back.
   */
  BoundedPool pool(Vertx vertx, int size, int queryTimeoutMs) {
    PgConnectOptions options = new PgConnectOptions(connect);
    // Each connection keeps its statements prepared (named, parsed and planned once): without it every
    // preparedQuery parses and plans its SQL again, the largest share of PostgreSQL's time on a plain read.
    options.setCachePreparedStatements(true);
    options.addProperty("statement_timeout", Integer.toString(queryTimeoutMs));
    // a transaction left open by a client that went away does not hold its locks for ever
    options.addProperty("idle_in_transaction_session_timeout", Integer.toString(Math.max(queryTimeoutMs * 6, 60_000)));
    Pool pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(size).setMaxWaitQueueSize(size * 8).setConnectionTimeout(0))
        .with(new NetClientOptions().setConnectTimeout(Math.min(queryTimeoutMs, 5_000)))
        .connectingTo(options)
        .using(vertx)
        .build();
    return new BoundedPool(pool, queryTimeoutMs + CLIENT_MARGIN_MS);
  }

  /** The client gives PostgreSQL's own statement_timeout this long to arrive before it closes the connection. */
  static final int CLIENT_MARGIN_MS = 500;
}

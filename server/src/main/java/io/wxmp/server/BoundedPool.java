package io.wxmp.server;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.sqlclient.ClosedConnectionException;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.TransactionPropagation;
import io.vertx.sqlclient.TransactionRollbackException;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.internal.Connection;
import io.vertx.sqlclient.internal.SqlConnectionInternal;
import io.vertx.sqlclient.spi.DatabaseMetadata;
import io.wxmp.handlers.common.ApiException;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collector;

/**
 * The PostgreSQL pool every feature gets: each statement (and each connection taken from the pool) has a deadline.
 * A statement past its deadline has its connection closed, so a stalled server or network cannot pin the pool, and
 * fails with 503 {@code upstream_unavailable} naming PostgreSQL; so do a refused or lost connection, a full wait
 * queue, and PostgreSQL's own "cannot serve" errors (statement timeout, shutdown, too many connections). Any other SQL
 * error (a unique violation, ...) is passed on unchanged for the features to map.
 */
final class BoundedPool implements Pool {
  static final String WHAT = "PostgreSQL";
  /** SQLSTATEs that mean "PostgreSQL cannot serve now", not "this statement is wrong". */
  private static final Set<String> UNAVAILABLE_STATES = Set.of("57014", "57P01", "57P02", "57P03", "53000",
      "53100", "53200", "53300", "53400", "58000", "58030");

  private final Pool delegate;
  private final long deadlineMs;

  BoundedPool(Pool delegate, long deadlineMs) {
    this.delegate = delegate;
    this.deadlineMs = deadlineMs;
  }

  /** True when {@code failure} says PostgreSQL (or the way to it) is down, slow or overloaded. */
  static boolean unavailable(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof TimeoutException || t instanceof IOException || t instanceof ClosedConnectionException
          || t instanceof ConnectionPoolTooBusyException) {
        return true;
      }
      // a connection the stall closed under a query in flight: "Connection is not active now, current status: CLOSED"
      if (t instanceof io.vertx.core.VertxException && t.getMessage() != null
          && t.getMessage().startsWith("Connection is not active now")) {
        return true;
      }
      // a pool's own "no connection within connectionTimeout" is a bare NoStackTraceThrowable("Timeout") (the server's
      // pool has none, Database#pool, but a pool built with one still maps to 503)
      if (t.getClass().getSimpleName().equals("NoStackTraceThrowable") && t.getMessage() != null
          && t.getMessage().toLowerCase(java.util.Locale.ROOT).contains("timeout")) {
        return true;
      }
      if (t instanceof DatabaseException db && db.getSqlState() != null
          && (db.getSqlState().startsWith("08") || UNAVAILABLE_STATES.contains(db.getSqlState()))) {
        return true;
      }
    }
    return false;
  }

  private static <T> Future<T> mapped(Throwable failure) {
    if (failure instanceof ApiException) {
      return Future.failedFuture(failure);
    }
    return Future.failedFuture(unavailable(failure) ? ApiException.upstreamUnavailable(WHAT, failure) : failure);
  }

  /**
   * {@code SELECT 1} on a connection of the pool within {@code timeoutMs}; past it the connection is closed, not kept
   * (the readiness probe).
   */
  Future<Void> ping(long timeoutMs) {
    return acquire(timeoutMs).compose(conn -> bounded(conn, conn.query("SELECT 1").execute(), timeoutMs)
        .onComplete(ar -> conn.close()))
        .mapEmpty();
  }

  /** A connection of the pool within the deadline; one that arrives after it goes straight back. */
  private Future<SqlConnection> acquire(long timeoutMs) {
    Future<SqlConnection> taken = delegate.getConnection();
    return taken.timeout(timeoutMs, TimeUnit.MILLISECONDS).recover(failure -> {
      if (failure instanceof TimeoutException && !taken.isComplete()) {
        taken.onSuccess(SqlConnection::close);
      }
      return mapped(failure);
    });
  }

  /** {@code call} on {@code conn} within the deadline; past it the connection's socket is closed. */
  private static <T> Future<T> bounded(SqlConnection conn, Future<T> call, long timeoutMs) {
    return call.timeout(timeoutMs, TimeUnit.MILLISECONDS).recover(failure -> {
      if (failure instanceof TimeoutException && !call.isComplete()) {
        kill(conn);
      }
      return mapped(failure);
    });
  }

  /**
   * Closes the connection's socket: the statement fails, and the pool drops the connection instead of handing a stuck
   * one to the next caller (closing a pooled {@link SqlConnection} would only give it back).
   */
  private static void kill(SqlConnection conn) {
    if (conn instanceof SqlConnectionInternal internal) {
      Connection c = internal.unwrap();
      for (int i = 0; i < 4 && !(c instanceof SocketConnectionBase) && c.unwrap() != c; i++) {
        c = c.unwrap();
      }
      if (c instanceof SocketConnectionBase socket) {
        // not socket().close(): Vert.x closes gracefully, waiting for the in-flight statement that never ends; the
        // channel's own close, below the pipeline, drops it at once and the pool forgets the connection
        io.netty.channel.Channel channel = socket.socket().channelHandlerContext().channel();
        if (channel.eventLoop().inEventLoop()) {
          channel.unsafe().close(channel.unsafe().voidPromise());
        } else {
          channel.eventLoop().execute(() -> channel.unsafe().close(channel.unsafe().voidPromise()));
        }
        return;
      }
    }
    conn.close();
  }

  @Override
  public Future<SqlConnection> getConnection() {
    return acquire(deadlineMs).map(Bounded::new);
  }

  @Override
  public <T> Future<T> withConnection(Function<SqlConnection, Future<T>> function) {
    return getConnection().compose(conn -> function.apply(conn).onComplete(ar -> conn.close()));
  }

  /** As {@link Pool#withTransaction(Function)}, with BEGIN, every statement, COMMIT and ROLLBACK bounded. */
  @Override
  public <T> Future<T> withTransaction(Function<SqlConnection, Future<T>> function) {
    return getConnection().compose(conn -> conn.begin()
        .compose(tx -> function.apply(conn).compose(
            result -> tx.commit().map(result),
            failure -> failure instanceof TransactionRollbackException
                ? Future.<T>failedFuture(failure)
                : tx.rollback().transform(v -> Future.<T>failedFuture(failure))))
        .onComplete(ar -> conn.close()));
  }

  /**
   * Propagated transactions (unused by wxmp) take their connection from the pool without {@link #acquire}'s deadline:
   * the pool has no wait timeout of its own ({@link Database#pool}).
   */
  @Override
  public <T> Future<T> withTransaction(TransactionPropagation propagation,
      Function<SqlConnection, Future<T>> function) {
    if (propagation == null || propagation == TransactionPropagation.NONE) {
      return withTransaction(function);
    }
    return delegate.withTransaction(propagation, conn -> function.apply(new Bounded(conn)))
        .recover(BoundedPool::mapped);
  }

  @Override
  public Query<RowSet<Row>> query(String sql) {
    return new BoundedQuery<>(c -> c.query(sql), this::onPool);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
    return new BoundedQuery<>(c -> c.preparedQuery(sql), this::onPool);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
    return new BoundedQuery<>(c -> c.preparedQuery(sql, options), this::onPool);
  }

  @Override
  public int size() {
    return delegate.size();
  }

  @Override
  public Future<Void> close() {
    return delegate.close();
  }

  /** Runs one statement on a connection taken from the pool for it and given back after. */
  private <T> Future<T> onPool(Function<SqlConnection, Future<T>> statement) {
    return acquire(deadlineMs).compose(conn -> bounded(conn, statement.apply(conn), deadlineMs)
        .onComplete(ar -> conn.close()));
  }

  /** Runs statements on a connection, each with the deadline. */
  private interface Runner {
    <T> Future<T> run(Function<SqlConnection, Future<T>> statement);
  }

  /** A query whose executions go through a {@link Runner}; {@code collecting} and {@code mapping} keep it bounded. */
  @SuppressWarnings("unchecked")
  private static final class BoundedQuery<T> implements PreparedQuery<T> {
    private final Function<SqlConnection, Query<T>> query;
    private final Runner runner;

    BoundedQuery(Function<SqlConnection, ? extends Query<T>> query, Runner runner) {
      this.query = (Function<SqlConnection, Query<T>>) query;
      this.runner = runner;
    }

    @Override
    public Future<T> execute() {
      return runner.run(c -> query.apply(c).execute());
    }

    @Override
    public Future<T> execute(Tuple tuple) {
      return runner.run(c -> ((PreparedQuery<T>) query.apply(c)).execute(tuple));
    }

    @Override
    public Future<T> executeBatch(List<Tuple> batch) {
      return runner.run(c -> ((PreparedQuery<T>) query.apply(c)).executeBatch(batch));
    }

    @Override
    public <R> PreparedQuery<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
      return new BoundedQuery<>(c -> query.apply(c).collecting(collector), runner);
    }

    @Override
    public <U> PreparedQuery<RowSet<U>> mapping(Function<Row, U> mapper) {
      return new BoundedQuery<>(c -> ((Query<RowSet<Row>>) query.apply(c)).mapping(mapper), runner);
    }
  }

  /** A connection of the pool whose statements, BEGIN, COMMIT and ROLLBACK have the deadline. */
  private final class Bounded implements SqlConnection, Runner {
    private final SqlConnection conn;

    Bounded(SqlConnection conn) {
      this.conn = conn;
    }

    @Override
    public <T> Future<T> run(Function<SqlConnection, Future<T>> statement) {
      return bounded(conn, statement.apply(conn), deadlineMs);
    }

    @Override
    public Query<RowSet<Row>> query(String sql) {
      return new BoundedQuery<>(c -> c.query(sql), this);
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
      return new BoundedQuery<>(c -> c.preparedQuery(sql), this);
    }

    @Override
    public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
      return new BoundedQuery<>(c -> c.preparedQuery(sql, options), this);
    }

    @Override
    public Future<PreparedStatement> prepare(String sql) {
      return bounded(conn, conn.prepare(sql), deadlineMs);
    }

    @Override
    public Future<PreparedStatement> prepare(String sql, PrepareOptions options) {
      return bounded(conn, conn.prepare(sql, options), deadlineMs);
    }

    @Override
    public SqlConnection exceptionHandler(Handler<Throwable> handler) {
      conn.exceptionHandler(handler);
      return this;
    }

    @Override
    public SqlConnection closeHandler(Handler<Void> handler) {
      conn.closeHandler(handler);
      return this;
    }

    @Override
    public Future<Transaction> begin() {
      return bounded(conn, conn.begin(), deadlineMs).map(tx -> new Transaction() {
        @Override
        public Future<Void> commit() {
          return bounded(conn, tx.commit(), deadlineMs);
        }

        @Override
        public Future<Void> rollback() {
          return bounded(conn, tx.rollback(), deadlineMs);
        }

        @Override
        public Future<Void> completion() {
          return tx.completion();
        }
      });
    }

    @Override
    public Transaction transaction() {
      return conn.transaction();
    }

    @Override
    public boolean isSSL() {
      return conn.isSSL();
    }

    @Override
    public DatabaseMetadata databaseMetadata() {
      return conn.databaseMetadata();
    }

    @Override
    public Future<Void> close() {
      return conn.close();
    }
  }
}

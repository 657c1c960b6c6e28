package io.wxmp.handlers.common;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A generation of the catalogue's eligibility in Redis, so a feed page can tell without PostgreSQL that its server's
 * catalogue copy is still current. Every write that can take an item out of the feed (an item leaving
 * {@code published}, a merchant suspended) calls {@link #beginWrite} before its commit and {@link #endWrite} after
 * it (both bump the generation; the write counts as in flight in between, with {@link ProfileCache}'s hold). A
 * catalogue refresh takes the generation before it reads PostgreSQL ({@link #beforeRefresh}), and only when no write
 * is in flight: its copy then holds every commit made before that read. A page that reads the same generation (no
 * write began since) may serve from the copy; any other page checks its items in PostgreSQL.
 *
 * <p>One hash, {@code wxmp:catalogue:gen} (one key: one cluster slot): {@code g} the generation, {@code w} and
 * {@code b} the writes in flight and their hold, written by {@link ProfileCache#WRITE}. Redis failing never fails a
 * page (it checks in PostgreSQL) nor a write (logged; then the copy can be behind for up to one refresh interval).
 */
public final class CatalogueGeneration {
  private static final Logger log = LoggerFactory.getLogger(CatalogueGeneration.class);
  public static final String KEY = "wxmp:catalogue:gen";
  /** Long enough that an idle catalogue keeps its generation between refreshes (each refresh renews it). */
  private static final String TTL = Long.toString(ProfileCache.TTL_SECONDS);

  private final RedisAPI redis;

  public CatalogueGeneration(RedisAPI redis) {
    this.redis = redis;
  }

  /** The read a page sends with its other reads; {@link #current(Response)} says what it means. */
  public static Request read() {
    return Request.cmd(Command.HMGET).arg(KEY).arg("g").arg("w").arg("b");
  }

  /** The generation a page may serve its copy at; null when none (a write in flight, no generation, unreadable). */
  public static String current(Response read) {
    if (read == null || read.type() != ResponseType.MULTI || read.size() < 3) {
      return null;
    }
    String g = string(read.get(0));
    return g == null || ProfileCache.writing(string(read.get(1)), string(read.get(2))) ? null : g;
  }

  /** {@link #current(Response)} in a round trip of its own; never fails (null). */
  public Future<String> current() {
    return Redis.bounded(redis.hmget(List.of(KEY, "g", "w", "b"))).map(CatalogueGeneration::current)
        .otherwise((String) null);
  }

  /**
   * The generation a refresh that reads PostgreSQL next holds every earlier commit at (started afresh when there is
   * none); null when a write is in flight or Redis failed. Never fails.
   */
  public Future<String> beforeRefresh() {
    return Redis.bounded(redis.hmget(List.of(KEY, "g", "w", "b"))).compose(r -> {
      if (r == null || r.type() != ResponseType.MULTI) {
        return Future.succeededFuture((String) null);
      }
      if (ProfileCache.writing(string(r.get(1)), string(r.get(2)))) {
        return Future.succeededFuture((String) null);
      }
      // renews the expiry (an idle catalogue keeps its generation), or starts a generation
      return Redis.bounded(ProfileCache.BEGIN.run(redis, List.of(KEY), List.of(ProfileCache.randomStart(), TTL)))
          .compose(g -> Redis.bounded(redis.expire(List.of(KEY, TTL))).map(x -> g.toString()));
    }).otherwise(failure -> {
      FailureLog.once("catalogue-generation-read", more -> log.warn("catalogue generation not read; pages check "
          + "in PostgreSQL: {} ({} more like it)", failure.toString(), more));
      return null;
    });
  }

  /** Before the transaction of a write that can take items out of the feed; never fails (logged). */
  public Future<Void> beginWrite() {
    return write(1);
  }

  /** After that transaction, committed or not; never fails (logged). */
  public Future<Void> endWrite() {
    return write(-1);
  }

  /** {@code write} between {@link #beginWrite} and {@link #endWrite}. */
  public <T> Future<T> around(Supplier<Future<T>> write) {
    return beginWrite().compose(v -> write.get()).eventually(this::endWrite);
  }

  private Future<Void> write(int writers) {
    return Redis.bounded(ProfileCache.WRITE.run(redis, List.of(KEY), List.of(ProfileCache.randomStart(), TTL,
            Integer.toString(writers), Long.toString(System.currentTimeMillis()),
            Long.toString(ProfileCache.WRITE_HOLD_MS))))
        .<Void>mapEmpty()
        .otherwise(failure -> {
          FailureLog.once("catalogue-generation-write", more -> log.warn("catalogue generation not bumped; feed "
              + "pages may show a withdrawn item until the next catalogue refresh: {} ({} more like it)",
              failure.toString(), more));
          return null;
        });
  }

  private static String string(Response r) {
    return r == null ? null : r.toString();
  }
}

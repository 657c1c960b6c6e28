package io.wxmp.handlers.common;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answer of {@code GET /me}, cached in Redis per user, so a logged-in user's profile costs one Redis read instead
 * of a PostgreSQL query. PostgreSQL stays the truth: every write of something {@code /me} shows (points, memberships,
 * nickname, avatar, phone, {@code personalised}, erasure) calls {@link #invalidate} after its commit.
 *
 * <p>One hash per user, {@code wxmp:me:{<id>}} (one key, so every script here touches one cluster slot):
 * {@code g} the user's generation, {@code d} the encoded answer and {@code u} its {@code memberUntil} in epoch ms
 * (empty for none). A writer bumps {@code g} and drops {@code d} in one script ({@link #WRITE}). A reader that misses takes the
 * generation before it reads PostgreSQL and stores what it read only if {@code g} is still that generation (checked
 * and written in one script), so a reader that read before a commit can never store over it. A generation that
 * starts afresh (a new or expired hash) starts at a random number, not at 1, so it cannot come back to a value a slow
 * reader saw before the hash went away. A write whose commit other requests can see before it ends (a payment
 * settled from a notify) also counts itself in {@code w} until {@code b} (epoch ms) around its transaction
 * ({@link #beginWrite}, {@link #endWrite}): meanwhile readers go to PostgreSQL and store nothing. The hash expires {@link #TTL_SECONDS} after its last write: the bound on how
 * stale an answer can be should an invalidation itself fail (Redis down between the commit and the script).
 * Nothing secret is cached: the answer has no token, no {@code session_key}, no phone number.
 *
 * <p>The same hash carries the feed's user state in {@code f} (personalised, joined, owned items, memberships with
 * their end: see {@code FeedUsers}), read with a page's session and stored under the same rules ({@link #feedRead},
 * {@link #putFeed}): every writer of what it holds (PATCH /me, settlements, erasure) already writes this hash, and a
 * write drops {@code f} with {@code d}.
 *
 * <p>Redis failing here never fails a request: a read that fails is a miss (PostgreSQL answers), a store or an
 * invalidation that fails is logged (once per kind per {@link FailureLog#WINDOW_MS}).
 */
public final class ProfileCache {
  private static final Logger log = LoggerFactory.getLogger(ProfileCache.class);
  /** How long a cached answer (and a user's generation) lives after its last write. */
  public static final long TTL_SECONDS = 600;
  private static final String PREFIX = "wxmp:me:{";
  /** The generation of a hash that has none yet; answers it (KEYS[1]; ARGV: a random start, the TTL). */
  static final RedisScript BEGIN = new RedisScript("""
      local g = redis.call('hget', KEYS[1], 'g')
      if not g then
        g = ARGV[1]
        redis.call('hset', KEYS[1], 'g', g)
        redis.call('expire', KEYS[1], ARGV[2])
      end
      return g""");
  /**
   * Stores the answer only at the generation its reader began at, and not while a write is in flight (ARGV:
   * generation, answer, memberUntil, TTL, now in ms).
   */
  private static final RedisScript STORE = new RedisScript("""
      if redis.call('hget', KEYS[1], 'g') ~= ARGV[1] then return 0 end
      if tonumber(redis.call('hget', KEYS[1], 'w') or '0') > 0
          and tonumber(redis.call('hget', KEYS[1], 'b') or '0') > tonumber(ARGV[5]) then return 0 end
      redis.call('hset', KEYS[1], 'd', ARGV[2], 'u', ARGV[3])
      redis.call('expire', KEYS[1], ARGV[4])
      return 1""");
  /**
   * A write: a new generation and no answer (ARGV: a random start for a hash that has no generation, the TTL, then
   * the writers in flight: 0 for a plain {@link #invalidate}; 1 when a write begins ({@link #beginWrite}), counted
   * until it ends or at most ARGV[5] ms after ARGV[4], now in ms, so a count left over by a writer that crashed is
   * dropped once its hold has passed; -1 when one ends ({@link #endWrite})).
   */
  static final RedisScript WRITE = new RedisScript("""
      local writers = tonumber(ARGV[3])
      if writers == 1 then
        local now = tonumber(ARGV[4])
        local b = tonumber(redis.call('hget', KEYS[1], 'b') or '0')
        if b <= now then redis.call('hset', KEYS[1], 'w', 0) end
        redis.call('hincrby', KEYS[1], 'w', 1)
        if now + tonumber(ARGV[5]) > b then redis.call('hset', KEYS[1], 'b', now + tonumber(ARGV[5])) end
      elseif writers == -1 then
        if redis.call('hincrby', KEYS[1], 'w', -1) <= 0 then redis.call('hdel', KEYS[1], 'w', 'b') end
      end
      if redis.call('hexists', KEYS[1], 'g') == 1 then
        redis.call('hincrby', KEYS[1], 'g', 1)
      else
        redis.call('hset', KEYS[1], 'g', ARGV[1])
      end
      redis.call('hdel', KEYS[1], 'd', 'u', 'f')
      redis.call('expire', KEYS[1], ARGV[2])
      return 1""");
  /** {@link #STORE} for the feed's user state {@code f} (ARGV: generation, state, TTL, now in ms). */
  private static final RedisScript STORE_FEED = new RedisScript("""
      if redis.call('hget', KEYS[1], 'g') ~= ARGV[1] then return 0 end
      if tonumber(redis.call('hget', KEYS[1], 'w') or '0') > 0
          and tonumber(redis.call('hget', KEYS[1], 'b') or '0') > tonumber(ARGV[4]) then return 0 end
      redis.call('hset', KEYS[1], 'f', ARGV[2])
      redis.call('expire', KEYS[1], ARGV[3])
      return 1""");
  /**
   * How long a {@link #beginWrite} holds the cache off at most: longer than any transaction it is called in (the
   * pool's deadlines are seconds), short enough that a writer that crashed before {@link #endWrite} costs little.
   */
  public static final long WRITE_HOLD_MS = 60_000;

  private final RedisAPI redis;
  private final String ttl = Long.toString(TTL_SECONDS);

  public ProfileCache(RedisAPI redis) {
    this.redis = redis;
  }

  /**
   * What a read found: the cached answer, or (a miss) the generation to store a fresh answer at; both null when
   * Redis could not be read (answer from PostgreSQL and store nothing).
   */
  public record Lookup(String answer, String generation) {}

  private static final Lookup UNAVAILABLE = new Lookup(null, null);

  public static String key(long userId) {
    return PREFIX + userId + "}";
  }

  /** The read {@link #get} sends, for a caller that sends it in a batch of its own ({@link #get(long, Response)}). */
  public Request read(long userId) {
    return Request.cmd(Command.HMGET).arg(key(userId)).arg("d").arg("u").arg("g").arg("w").arg("b");
  }

  /** Never fails: a Redis failure is a {@link Lookup} with neither an answer nor a generation. */
  public Future<Lookup> get(long userId) {
    return Redis.bounded(redis.hmget(List.of(key(userId), "d", "u", "g", "w", "b"))).compose(r -> lookup(userId, r))
        .otherwise(ProfileCache::unavailable);
  }

  /** The read of the feed's user state, for a page that sends it with its session ({@link #feedGet(long, Response)}). */
  public Request feedRead(long userId) {
    return Request.cmd(Command.HMGET).arg(key(userId)).arg("f").arg("g").arg("w").arg("b");
  }

  /** The feed's user state ({@link Lookup#answer}) or the generation to store it at; never fails. */
  public Future<Lookup> feedGet(long userId) {
    return Redis.bounded(redis.hmget(List.of(key(userId), "f", "g", "w", "b")))
        .compose(r -> feedLookup(userId, r)).otherwise(ProfileCache::unavailable);
  }

  /** What {@link #feedRead}'s reply means; never fails. */
  public Future<Lookup> feedGet(long userId, Response read) {
    return feedLookup(userId, read).otherwise(ProfileCache::unavailable);
  }

  private Future<Lookup> feedLookup(long userId, Response r) {
    if (r == null || r.type() != ResponseType.MULTI) {
      return Future.failedFuture(new IllegalStateException("HMGET answered " + r));
    }
    if (writing(string(r.get(2)), string(r.get(3)))) {
      return Future.succeededFuture(UNAVAILABLE);
    }
    String state = string(r.get(0));
    String generation = string(r.get(1));
    return state != null ? Future.succeededFuture(new Lookup(state, generation)) : missAt(userId, generation);
  }

  /**
   * Stores the feed's user state read from PostgreSQL after {@link #feedGet} gave {@code generation} (the rules of
   * {@link #put}); true when stored.
   */
  public Future<Boolean> putFeed(long userId, String generation, String state) {
    if (generation == null) {
      return Future.succeededFuture(false);
    }
    return Redis.bounded(STORE_FEED.run(redis, List.of(key(userId)), List.of(generation, state, ttl,
            Long.toString(System.currentTimeMillis()))))
        .map(r -> r.toInteger() == 1)
        .otherwise(failure -> {
          FailureLog.once("profile-cache-store", more -> log.warn("feed user state not cached: {} ({} more like it)",
              failure.toString(), more));
          return false;
        });
  }

  /** What {@link #read}'s reply means; never fails. */
  public Future<Lookup> get(long userId, Response read) {
    return lookup(userId, read).otherwise(ProfileCache::unavailable);
  }

  private Future<Lookup> lookup(long userId, Response r) {
    if (r == null || r.type() != ResponseType.MULTI) {
      return Future.failedFuture(new IllegalStateException("HMGET answered " + r));
    }
    if (writing(string(r.get(3)), string(r.get(4)))) {
      // a write is in flight: PostgreSQL answers (before its commit the old value, after it the new one), and
      // nothing is stored until the write has ended
      return Future.succeededFuture(UNAVAILABLE);
    }
    String answer = string(r.get(0));
    String generation = string(r.get(2));
    if (answer != null && current(string(r.get(1)))) {
      return Future.succeededFuture(new Lookup(answer, generation));
    }
    return missAt(userId, generation);
  }

  /** A miss: to be stored at the user's generation, started now (at a random number) when the hash has none. */
  private Future<Lookup> missAt(long userId, String generation) {
    if (generation != null) {
      return Future.succeededFuture(new Lookup(null, generation));
    }
    return Redis.bounded(BEGIN.run(redis, List.of(key(userId)), List.of(randomStart(), ttl)))
        .map(g -> new Lookup(null, g.toString()));
  }

  private static Lookup unavailable(Throwable failure) {
    FailureLog.once("profile-cache-read", more -> log.warn("GET /me cache not read, answering from PostgreSQL: {}"
        + " ({} more like it)", failure.toString(), more));
    return UNAVAILABLE;
  }

  /**
   * Stores an answer read from PostgreSQL after {@link #get} gave {@code generation}; true when stored, false when a
   * write came in between (or Redis failed). {@code memberUntilMs}: the answer's {@code memberUntil}, or null.
   */
  public Future<Boolean> put(long userId, String generation, String answer, Long memberUntilMs) {
    if (generation == null) {
      return Future.succeededFuture(false);
    }
    return Redis.bounded(STORE.run(redis, List.of(key(userId)), List.of(generation, answer,
            memberUntilMs == null ? "" : Long.toString(memberUntilMs), ttl,
            Long.toString(System.currentTimeMillis()))))
        .map(r -> r.toInteger() == 1)
        .otherwise(failure -> {
          FailureLog.once("profile-cache-store", more -> log.warn("GET /me answer not cached: {} ({} more like it)",
              failure.toString(), more));
          return false;
        });
  }

  /**
   * Call after every commit that changes what {@code GET /me} shows for the user (also after a write whose outcome is
   * unknown). Never fails; a failure is logged, and the hash's expiry bounds how long the old answer can be served.
   */
  public Future<Void> invalidate(long userId) {
    return write(userId, 0);
  }

  /**
   * Call before a write whose commit another request can observe before this one has ended (a payment notify commits,
   * and the buyer's app, polling its order, reads {@code /me} next): until {@link #endWrite}, {@code /me} answers
   * from PostgreSQL and stores nothing, so no request sees the old answer after the commit. Never fails (logged).
   */
  public Future<Void> beginWrite(long userId) {
    return write(userId, 1);
  }

  /** After the commit of a write {@link #beginWrite} began (committed or not): {@link #invalidate}, and ends it. */
  public Future<Void> endWrite(long userId) {
    return write(userId, -1);
  }

  private Future<Void> write(long userId, int writers) {
    return Redis.bounded(WRITE.run(redis, List.of(key(userId)), List.of(randomStart(), ttl,
            Integer.toString(writers), Long.toString(System.currentTimeMillis()), Long.toString(WRITE_HOLD_MS))))
        .<Void>mapEmpty()
        .otherwise(failure -> {
          if (writers == 1) {
            FailureLog.once("profile-cache-begin-write", more -> log.warn("GET /me cache of user {} not held off "
                + "during a write: {} ({} more like it)", userId, failure.toString(), more));
          } else {
            FailureLog.once("profile-cache-invalidate", more -> log.warn("GET /me cache of user {} not "
                + "invalidated, it may be stale for up to {} s: {} ({} more like it)", userId, TTL_SECONDS,
                failure.toString(), more));
          }
          return null;
        });
  }

  static boolean writing(String writers, String untilMs) {
    return writers != null && Long.parseLong(writers) > 0 && untilMs != null
        && Long.parseLong(untilMs) > System.currentTimeMillis();
  }

  /** An answer whose membership has run out since it was cached is a miss (PostgreSQL drops the membership then). */
  private static boolean current(String memberUntilMs) {
    return memberUntilMs == null || memberUntilMs.isEmpty()
        || Long.parseLong(memberUntilMs) > System.currentTimeMillis();
  }

  private static String string(Response r) {
    return r == null ? null : r.toString();
  }

  /** Far below Long.MAX_VALUE, so HINCRBY never overflows. */
  static String randomStart() {
    return Long.toString(ThreadLocalRandom.current().nextLong(1L << 52));
  }
}

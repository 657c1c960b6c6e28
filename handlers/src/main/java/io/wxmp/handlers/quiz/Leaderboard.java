package io.wxmp.handlers.quiz;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import io.wxmp.handlers.common.Redis;
import io.wxmp.handlers.common.RedisLease;
import io.wxmp.handlers.common.RedisScript;
import java.util.ArrayList;
import java.util.List;

/**
 * A quiz's leaderboard as a Redis sorted set of each user's best finished attempt. PostgreSQL is the truth: when
 * the set is missing (Redis flushed or restarted) it is rebuilt from the attempts, one rebuild at a time under a
 * short Redis lock, before anyone reads it.
 *
 * <p>One number orders both keys: {@code score * 10^9 + (10^9 - 1 - durationMs)}, so a higher score ranks first and
 * an equal score ranks the shorter duration first. It stays an exact integer in a double for any score a quiz can
 * have (at most 100 questions). Durations are capped below 10^9 ms (11 days), far beyond any time limit.
 */
public final class Leaderboard {
  static final long SPAN = 1_000_000_000L;
  private static final long LOCK_MS = 10_000;
  private static final long WAIT_MS = 3_000;
  private static final long POLL_MS = 25;
  private static final int CHUNK = 500;
  /** Keeps the better of the stored and the new value, then answers the member's rank; -1 when the set is missing. */
  private static final RedisScript RECORD = new RedisScript("""
      if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
      local best = redis.call('ZSCORE', KEYS[1], ARGV[2])
      if (not best) or tonumber(best) < tonumber(ARGV[1]) then
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
        best = ARGV[1]
      end
      return redis.call('ZCOUNT', KEYS[1], '(' .. best, '+inf') + 1""");

  private final Vertx vertx;
  private final RedisAPI redis;
  private final QuizRepository repository;

  public Leaderboard(Vertx vertx, RedisAPI redis, QuizRepository repository) {
    this.vertx = vertx;
    this.redis = redis;
    this.repository = repository;
  }

  /** One line of the board. */
  public record Entry(long userId, int score, long durationMs, long composite) {}

  /** The first {@code limit} entries (best first) and the caller's own entry, or null. */
  public record Top(List<Entry> entries, Entry me, Long myRank) {}

  /** The hash tag keeps a quiz's keys in one cluster slot, as the Lua scripts and ZUNIONSTORE need. */
  public static String key(long quizId) {
    return "wxmp:quiz:{" + quizId + "}:board";
  }

  static long composite(int score, long durationMs) {
    return score * SPAN + (SPAN - 1 - Math.min(Math.max(durationMs, 0), SPAN - 1));
  }

  static Entry entry(long userId, long composite) {
    return new Entry(userId, (int) (composite / SPAN), SPAN - 1 - composite % SPAN, composite);
  }

  /** Records a finished attempt (the board keeps the user's best) and answers the user's rank afterwards. */
  public Future<Long> record(long quizId, long userId, int score, long durationMs) {
    String value = Long.toString(composite(score, durationMs));
    return recordIfPresent(quizId, userId, value).compose(rank -> rank > 0
        ? Future.succeededFuture(rank)
        // the set was missing: rebuild it from PostgreSQL (which holds this attempt already) and record again
        : ensure(quizId).compose(v -> recordIfPresent(quizId, userId, value))
            .map(again -> again > 0 ? again : null));
  }

  public Future<Top> top(long quizId, long userId, int limit) {
    String key = key(quizId);
    return ensure(quizId)
        .compose(v -> Redis.bounded(redis.zrevrange(List.of(key, "0", Integer.toString(limit - 1), "WITHSCORES"))))
        .compose(range -> Redis.bounded(redis.zscore(key, Long.toString(userId))).compose(mine -> {
          List<Entry> entries = parseRange(range);
          if (mine == null) {
            return Future.succeededFuture(new Top(entries, null, null));
          }
          long composite = (long) Double.parseDouble(mine.toString());
          return Redis.bounded(redis.zcount(key, "(" + composite, "+inf"))
              .map(above -> new Top(entries, entry(userId, composite), above.toLong() + 1));
        }));
  }

  private Future<Long> recordIfPresent(long quizId, long userId, String value) {
    return Redis.bounded(RECORD.run(redis, List.of(key(quizId)), List.of(value, Long.toString(userId))))
        .map(Response::toLong);
  }

  /** Makes sure the set exists: rebuilds it if missing, or waits for the rebuild that another caller runs. */
  Future<Void> ensure(long quizId) {
    String key = key(quizId);
    return Redis.bounded(redis.exists(List.of(key))).compose(exists -> {
      if (exists.toInteger() == 1) {
        return Future.succeededFuture();
      }
      String lock = key + ":lock";
      return RedisLease.tryAcquire(redis, lock, LOCK_MS).compose(token -> token != null
          ? rebuild(quizId).eventually(() -> RedisLease.release(redis, lock, token))
          : awaitRebuild(key, lock, System.currentTimeMillis() + WAIT_MS));
    });
  }

  /**
   * Loads every user's best attempt into a scratch set, then merges it into the board with MAX, so an attempt
   * recorded while the rebuild ran is kept whichever came first.
   */
  private Future<Void> rebuild(long quizId) {
    String key = key(quizId);
    String scratch = key + ":rebuild";
    return repository.bestPerUser(quizId).compose(rows -> {
      if (rows.isEmpty()) {
        return Future.succeededFuture();
      }
      Future<?> chain = Redis.bounded(redis.del(List.of(scratch)));
      for (int from = 0; from < rows.size(); from += CHUNK) {
        List<String> args = new ArrayList<>();
        args.add(scratch);
        for (QuizRepository.BoardRow row : rows.subList(from, Math.min(rows.size(), from + CHUNK))) {
          args.add(Long.toString(composite(row.score(), row.durationMs())));
          args.add(Long.toString(row.userId()));
        }
        chain = chain.compose(v -> Redis.bounded(redis.zadd(args)));
      }
      return chain
          .compose(v -> Redis.bounded(redis.zunionstore(List.of(key, "2", key, scratch, "AGGREGATE", "MAX"))))
          .compose(v -> Redis.bounded(redis.del(List.of(scratch))))
          .mapEmpty();
    });
  }

  private Future<Void> awaitRebuild(String key, String lock, long deadline) {
    return Redis.bounded(redis.exists(List.of(key))).compose(board -> {
      if (board.toInteger() == 1 || System.currentTimeMillis() > deadline) {
        return Future.<Void>succeededFuture();
      }
      // nobody holds the lock any more: the rebuild found no finished attempt, and the board stays empty
      return Redis.bounded(redis.exists(List.of(lock))).compose(locked -> {
        if (locked.toInteger() == 0) {
          return Future.<Void>succeededFuture();
        }
        Promise<Void> later = Promise.promise();
        vertx.setTimer(POLL_MS, id -> awaitRebuild(key, lock, deadline).onComplete(later));
        return later.future();
      });
    });
  }

  /** WITHSCORES comes back flat [member, score, ...] over RESP2 and as [member, score] pairs over RESP3. */
  private static List<Entry> parseRange(Response range) {
    List<Entry> out = new ArrayList<>();
    if (range == null || range.size() == 0) {
      return out;
    }
    if (range.get(0).type() == ResponseType.MULTI) {
      for (Response pair : range) {
        out.add(entry(Long.parseLong(pair.get(0).toString()), (long) Double.parseDouble(pair.get(1).toString())));
      }
    } else {
      for (int i = 0; i + 1 < range.size(); i += 2) {
        out.add(entry(Long.parseLong(range.get(i).toString()),
            (long) Double.parseDouble(range.get(i + 1).toString())));
      }
    }
    return out;
  }
}

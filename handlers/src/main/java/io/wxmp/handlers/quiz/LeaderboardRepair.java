package io.wxmp.handlers.quiz;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.Redis;
import io.wxmp.handlers.common.RedisLease;
import io.wxmp.handlers.common.RedisScript;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the Redis leaderboards back to what PostgreSQL committed. A submit commits in PostgreSQL first and updates
 * the board after; when Redis failed in between (or lost a write it had acknowledged, restarting from an append-only
 * file a second behind), the board exists but lacks that attempt, and the rebuild-when-missing of {@link Leaderboard}
 * never runs. This pass runs on a timer on every instance (one at a time, under a lease): it reads the attempts
 * submitted since its watermark (kept in Redis, minus a margin for transactions that committed late) and merges each
 * into its quiz's board, keeping every user's best; a board that is missing is left to the full rebuild on its next
 * read. Merging is idempotent, so running twice, or after a restart, changes nothing more.
 *
 * <p>While Redis is down the pass fails and the watermark stays where it was, so the first pass after Redis comes back
 * covers the whole outage. A lost watermark (Redis flushed) falls back to {@link #LOOKBACK_SEC}.
 */
public final class LeaderboardRepair {
  private static final Logger log = LoggerFactory.getLogger(LeaderboardRepair.class);
  static final String WATERMARK_KEY = "wxmp:quiz:board-repair:watermark";
  static final String LEASE_KEY = "wxmp:quiz:board-repair:lease";
  /** A submit's transaction commits within this long of its {@code submitted_at} (statements have deadlines). */
  static final long MARGIN_SEC = 300;
  /** How far back the first pass (or one whose watermark Redis lost) looks. */
  static final long LOOKBACK_SEC = 86_400;
  private static final int PAGE = 2_000;
  private static final long LEASE_MS = 60_000;
  /** Merges (value, member) pairs into an existing board, keeping each member's best; -1 when the board is missing. */
  private static final RedisScript MERGE = new RedisScript("""
      if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
      local changed = 0
      for i = 1, #ARGV, 2 do
        local best = redis.call('ZSCORE', KEYS[1], ARGV[i + 1])
        if (not best) or tonumber(best) < tonumber(ARGV[i]) then
          redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
          changed = changed + 1
        end
      end
      return changed""");
  private static final String NOW = "SELECT now()";
  private static final String SINCE = """
      SELECT id, quiz_id, user_id, score, duration_ms, submitted_at FROM quiz_attempts
      WHERE submitted_at IS NOT NULL AND (submitted_at, id) > ($1, $2)
      ORDER BY submitted_at, id LIMIT $3""";

  private final Pool pg;
  private final RedisAPI redis;

  public LeaderboardRepair(Pool pg, RedisAPI redis) {
    this.pg = pg;
    this.redis = redis;
  }

  /** One pass; answers how many board entries it had to add or raise (0 when everything had converged already). */
  public Future<Integer> runOnce() {
    return RedisLease.withLease(redis, LEASE_KEY, LEASE_MS, this::pass, 0);
  }

  private Future<Integer> pass() {
    return pg.query(NOW).execute().compose(now -> {
      OffsetDateTime startedAt = now.iterator().next().getOffsetDateTime(0);
      return Redis.bounded(redis.get(WATERMARK_KEY)).compose(mark -> {
        OffsetDateTime from = mark == null ? startedAt.minusSeconds(LOOKBACK_SEC)
            : OffsetDateTime.parse(mark.toString()).minusSeconds(MARGIN_SEC);
        return page(from, 0L, 0).compose(changed -> Redis.bounded(redis.set(List.of(WATERMARK_KEY,
                startedAt.toString())))
            .map(changed));
      });
    }).onSuccess(changed -> {
      if (changed > 0) {
        log.info("leaderboards: {} entries committed in PostgreSQL were missing from Redis and are back", changed);
      }
    });
  }

  private Future<Integer> page(OffsetDateTime afterTime, long afterId, int changedSoFar) {
    return pg.preparedQuery(SINCE).execute(Tuple.of(afterTime, afterId, PAGE)).compose((RowSet<Row> rows) -> {
      Map<Long, List<String>> byQuiz = new LinkedHashMap<>();
      OffsetDateTime lastTime = afterTime;
      long lastId = afterId;
      for (Row r : rows) {
        byQuiz.computeIfAbsent(r.getLong("quiz_id"), q -> new ArrayList<>())
            .addAll(List.of(Long.toString(Leaderboard.composite(r.getInteger("score"), r.getLong("duration_ms"))),
                Long.toString(r.getLong("user_id"))));
        lastTime = r.getOffsetDateTime("submitted_at");
        lastId = r.getLong("id");
      }
      List<Future<Response>> merges = new ArrayList<>();
      byQuiz.forEach((quizId, args) ->
          merges.add(Redis.bounded(MERGE.run(redis, List.of(Leaderboard.key(quizId)), args))));
      OffsetDateTime nextTime = lastTime;
      long nextId = lastId;
      return Future.all(merges).compose(all -> {
        int changed = changedSoFar;
        for (Future<Response> m : merges) {
          changed += Math.max(0, m.result().toInteger());
        }
        return rows.size() < PAGE ? Future.succeededFuture(changed) : page(nextTime, nextId, changed);
      });
    });
  }
}

package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.Redis;
import io.wxmp.handlers.common.RedisScript;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The serving side of budgets, frequency caps and pacing, in Redis: a served slot reserves its cost (one impression
 * for CPM, one click for CPC) and one place in the user's frequency cap, atomically in one Lua script that checks
 * the cap, the total budget, the daily budget and the pace together; the billable event commits the reservation,
 * and a reservation nobody used lapses after {@code reservationTtlMs}. The spend counters here are a cache of the
 * PostgreSQL ledger: missing (flushed, expired) they are loaded from it again, and they expire every few minutes so
 * that any drift heals. The ledger's own conditional updates are what make overspending impossible; this is what
 * keeps serving from promising more than the budget holds.
 *
 * <p>All keys of one campaign share the hash tag {@code {c:<id>}}, so the script runs on one Redis Cluster slot.
 */
public final class Budgets {
  static final DateTimeFormatter DAY = DateTimeFormatter.BASIC_ISO_DATE;
  /** How long the spend cache lives before it is read from the ledger again. */
  static final long CACHE_TTL_SEC = 300;
  private static final String SENTINEL = "s";

  /**
   * KEYS: spent, day, resv (zset rid→expiry), resvamt (hash rid→millifen), reserved (sum), cap (zset), ures (zset).
   * ARGV: now, cost, total limit, daily limit, pace allowance, cap impressions (0 = none), cap window ms, ttl ms, rid.
   * Answers ok, nospend (load the cache first), nocap (load the user's cap first), cap, total, daily or pacing.
   */
  private static final RedisScript RESERVE = new RedisScript("""
      local now = tonumber(ARGV[1])
      local spent = redis.call('GET', KEYS[1])
      local day = redis.call('GET', KEYS[2])
      if not spent or not day then return 'nospend' end
      local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 200)
      for _, rid in ipairs(expired) do
        local amount = redis.call('HGET', KEYS[4], rid)
        redis.call('ZREM', KEYS[3], rid)
        if amount then
          redis.call('HDEL', KEYS[4], rid)
          redis.call('DECRBY', KEYS[5], amount)
        end
      end
      local capN = tonumber(ARGV[6])
      local window = tonumber(ARGV[7])
      local ttl = tonumber(ARGV[8])
      if capN > 0 then
        if redis.call('EXISTS', KEYS[6]) == 0 then return 'nocap' end
        redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
        if redis.call('ZCARD', KEYS[6]) - 1 >= capN then return 'cap' end
      end
      local reserved = tonumber(redis.call('GET', KEYS[5]) or '0')
      if reserved < 0 then reserved = 0 end
      local cost = tonumber(ARGV[2])
      if tonumber(spent) + reserved + cost > tonumber(ARGV[3]) then return 'total' end
      if tonumber(day) + reserved + cost > tonumber(ARGV[4]) then return 'daily' end
      if tonumber(day) > tonumber(ARGV[5]) then return 'pacing' end
      local rid = ARGV[9]
      local expiry = now + ttl
      redis.call('ZADD', KEYS[3], expiry, rid)
      redis.call('HSET', KEYS[4], rid, cost)
      redis.call('INCRBY', KEYS[5], cost)
      redis.call('ZADD', KEYS[7], expiry, rid)
      redis.call('PEXPIRE', KEYS[7], ttl)
      if capN > 0 then
        redis.call('ZADD', KEYS[6], expiry, 'r:' .. rid)
        redis.call('PEXPIRE', KEYS[6], window + ttl)
      end
      return 'ok'
      """);

  /**
   * KEYS as for RESERVE. ARGV: now, cost (added to the cache), consume (1: take the user's oldest reservation off),
   * cap commit (1: the impression takes the place of a pending cap reservation), cap score, token id, cap ttl ms.
   */
  private static final RedisScript COMMIT = new RedisScript("""
      local now = tonumber(ARGV[1])
      if ARGV[3] == '1' then
        redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now)
        local rids = redis.call('ZRANGE', KEYS[7], 0, 0)
        if #rids > 0 then
          local rid = rids[1]
          redis.call('ZREM', KEYS[7], rid)
          redis.call('ZREM', KEYS[3], rid)
          local amount = redis.call('HGET', KEYS[4], rid)
          if amount then
            redis.call('HDEL', KEYS[4], rid)
            redis.call('DECRBY', KEYS[5], amount)
          end
        end
      end
      local cost = tonumber(ARGV[2])
      if cost > 0 then
        if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCRBY', KEYS[1], cost) end
        if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('INCRBY', KEYS[2], cost) end
      end
      if ARGV[4] == '1' and redis.call('EXISTS', KEYS[6]) == 1 then
        local pending = redis.call('ZRANGEBYSCORE', KEYS[6], now, '+inf')
        for _, m in ipairs(pending) do
          if string.sub(m, 1, 2) == 'r:' then
            redis.call('ZREM', KEYS[6], m)
            break
          end
        end
        redis.call('ZADD', KEYS[6], ARGV[5], 'i:' .. ARGV[6])
        redis.call('PEXPIRE', KEYS[6], ARGV[7])
      end
      return 'ok'
      """);

  /** Seeds a user's cap set from the ledger unless someone seeded it first. ARGV: ttl ms, then score, member pairs. */
  private static final RedisScript SEED_CAP = new RedisScript("""
      if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
      redis.call('ZADD', KEYS[1], '+inf', 's')
      for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
      redis.call('PEXPIRE', KEYS[1], ARGV[1])
      return 1
      """);

  private static final String SPENT = """
      SELECT c.spent_millifen, coalesce(d.spent_millifen, 0) AS day
      FROM campaigns c LEFT JOIN campaign_daily_spend d ON d.campaign_id = c.id AND d.day = $2 WHERE c.id = $1""";
  private static final String IMPRESSIONS = """
      SELECT token_id, at FROM campaign_ledger
      WHERE user_id = $1 AND campaign_id = $2 AND event_type = 'impression' AND at > $3""";

  private final RedisAPI redis;
  private final Pool pg;
  private final Clock clock;
  private final long reservationTtlMs;

  public Budgets(RedisAPI redis, Pool pg, Clock clock, long reservationTtlMs) {
    this.redis = redis;
    this.pg = pg;
    this.clock = clock;
    this.reservationTtlMs = reservationTtlMs;
  }

  /** Why a campaign was or was not reserved for a slot. */
  public enum Outcome { OK, CAP, TOTAL, DAILY, PACING }

  /** Tries to reserve one slot of {@code c} for the user now. */
  public Future<Outcome> reserve(Campaign c, long userId) {
    return reserve(c, userId, 0);
  }

  private Future<Outcome> reserve(Campaign c, long userId, int loads) {
    Instant now = clock.instant();
    LocalDate day = Pacing.day(now);
    List<String> args = List.of(Long.toString(now.toEpochMilli()), Long.toString(c.slotReservationMillifen()),
        Long.toString(c.budgetTotalFen() * Campaign.MILLIFEN_PER_FEN),
        Long.toString(c.budgetDailyFen() * Campaign.MILLIFEN_PER_FEN),
        Long.toString(Pacing.allowanceMillifen(c.budgetDailyFen(), now)),
        Integer.toString(c.hasCap() ? c.capImpressions() : 0), Long.toString(windowMs(c)),
        Long.toString(reservationTtlMs), UUID.randomUUID().toString());
    return Redis.bounded(RESERVE.run(redis, keys(c.id(), userId, day), args)).compose(reply -> {
      String answer = reply.toString();
      if (loads < 3 && answer.equals("nospend")) {
        return loadSpend(c.id(), day).compose(v -> reserve(c, userId, loads + 1));
      }
      if (loads < 3 && answer.equals("nocap")) {
        return loadCap(c, userId, now).compose(v -> reserve(c, userId, loads + 1));
      }
      return Future.succeededFuture(switch (answer) {
        case "ok" -> Outcome.OK;
        case "cap" -> Outcome.CAP;
        case "daily" -> Outcome.DAILY;
        case "pacing" -> Outcome.PACING;
        default -> Outcome.TOTAL;
      });
    });
  }

  /**
   * After the ledger decided about an event: moves the user's reservation off (when the event was the billable kind),
   * adds what was billed to the cached spend, and turns a pending cap place into the impression.
   */
  public Future<Void> commit(Campaign c, long userId, String tokenId, String eventType, long billedMillifen,
      Instant at) {
    boolean billableType = c.costMillifen(eventType) > 0;
    boolean impression = "impression".equals(eventType);
    if (!billableType && !(impression && c.hasCap())) {
      return Future.succeededFuture();
    }
    Instant now = clock.instant();
    List<String> args = List.of(Long.toString(now.toEpochMilli()), Long.toString(billedMillifen),
        billableType ? "1" : "0", impression && c.hasCap() ? "1" : "0",
        Long.toString(at.toEpochMilli() + windowMs(c)), tokenId, Long.toString(windowMs(c) + reservationTtlMs));
    return Redis.bounded(COMMIT.run(redis, keys(c.id(), userId, Pacing.day(at)), args)).mapEmpty();
  }

  /** Forgets the cached spend of a campaign (tests simulate a lost Redis with this or FLUSHALL). */
  public static List<String> spendKeys(long campaignId, LocalDate day) {
    String base = "wxmp:camp:{c:" + campaignId + "}:";
    return List.of(base + "spent", base + "day:" + DAY.format(day));
  }

  static List<String> keys(long campaignId, long userId, LocalDate day) {
    String base = "wxmp:camp:{c:" + campaignId + "}:";
    return List.of(base + "spent", base + "day:" + DAY.format(day), base + "resv", base + "resvamt",
        base + "reserved", base + "cap:" + userId, base + "ures:" + userId);
  }

  private static long windowMs(Campaign c) {
    return c.hasCap() ? c.capPerHours() * 3_600_000L : 0;
  }

  /** Loads the total and today's spend from the ledger's sums into the cache, unless someone did first. */
  private Future<Void> loadSpend(long campaignId, LocalDate day) {
    return pg.preparedQuery(SPENT).execute(Tuple.of(campaignId, day)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.succeededFuture();
      }
      Row r = rows.iterator().next();
      List<String> keys = spendKeys(campaignId, day);
      String ttl = Long.toString(CACHE_TTL_SEC);
      return Redis.bounded(Future.all(
          redis.set(List.of(keys.get(0), Long.toString(r.getLong(0)), "NX", "EX", ttl)),
          redis.set(List.of(keys.get(1), Long.toString(r.getLong(1)), "NX", "EX", ttl)))).mapEmpty();
    });
  }

  /** Loads the user's impressions of the campaign inside its cap window from the ledger into the cap set. */
  private Future<Void> loadCap(Campaign c, long userId, Instant now) {
    long window = windowMs(c);
    return pg.preparedQuery(IMPRESSIONS).execute(Tuple.of(userId, c.id(),
            java.time.OffsetDateTime.ofInstant(now.minusMillis(window), java.time.ZoneOffset.UTC)))
        .compose(rows -> {
          List<String> args = new ArrayList<>();
          args.add(Long.toString(window + reservationTtlMs));
          for (Row r : rows) {
            args.add(Long.toString(r.getOffsetDateTime("at").toInstant().toEpochMilli() + window));
            args.add("i:" + r.getString("token_id"));
          }
          return Redis.bounded(SEED_CAP.run(redis, List.of(keys(c.id(), userId, Pacing.day(now)).get(5)), args));
        }).mapEmpty();
  }
}

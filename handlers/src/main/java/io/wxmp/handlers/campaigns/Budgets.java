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
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The serving side of budgets, frequency caps and pacing, in Redis: a served slot reserves its cost (one impression
 * for CPM, one click for CPC) and one place in the user's frequency cap, atomically in one Lua script that checks
 * the cap, the total budget, the daily budget and the pace together; the billable event commits the reservation,
 * and a reservation nobody used lapses after {@code reservationTtlMs}. The spend counters here are a cache of the
 * PostgreSQL ledger: missing (flushed, expired) they are loaded from it again, and they expire every few minutes so
 * that any drift heals. The ledger's own conditional updates are what make overspending impossible; this is what
 * keeps serving from promising more than the budget holds.
 *
 * <p>All keys share the hash tag {@code {camp}} (see {@link #PREFIX}), so a page's script runs on one Redis Cluster slot.
 */
public final class Budgets {
  static final DateTimeFormatter DAY = DateTimeFormatter.BASIC_ISO_DATE;
  /** How long the spend cache lives before it is read from the ledger again. */
  static final long CACHE_TTL_SEC = 300;
  private static final String SENTINEL = "s";

  /** One candidate's part of {@link #RESERVE_PAGE}: how many keys and arguments it takes. */
  private static final int KEYS_PER = 7;
  private static final int ARGS_PER = 7;

  /**
   * The reservation of one feed page, for all its sponsored places in one call. KEYS: the campaigns' version, then
   * per candidate (in rank order) spent, day, resv (zset rid→expiry), resvamt (hash rid→millifen), reserved (sum),
   * cap (zset), ures (zset). ARGV: now, ttl ms, places, the version the candidates were chosen at, a reservation id
   * prefix, then per candidate cost, total limit, daily limit, pace allowance, cap impressions (0 = none), cap window
   * ms, item id. Each candidate is checked as one reservation always was (cap, total budget, daily budget, pace; an
   * item already placed is passed over) until the places are filled. Answers {@code {'stale', version}} (nothing
   * reserved: the campaigns changed since the candidates were read), {@code {'ok', i...}} with the indices (from 1)
   * reserved, or {@code {'nospend' | 'nocap', i, j...}}: candidate i needs its spend (or the user's cap) loaded
   * first, j... were reserved before it.
   */
  private static final RedisScript RESERVE_PAGE = new RedisScript("""
      local now = tonumber(ARGV[1])
      local ttl = tonumber(ARGV[2])
      local places = tonumber(ARGV[3])
      local version = redis.call('GET', KEYS[1]) or '0'
      if version ~= ARGV[4] then return {'stale', version} end
      local function reserve(k, a, rid)
        local spent = redis.call('GET', KEYS[k + 1])
        local day = redis.call('GET', KEYS[k + 2])
        if not spent or not day then return 'nospend' end
        local expired = redis.call('ZRANGEBYSCORE', KEYS[k + 3], '-inf', now, 'LIMIT', 0, 200)
        for _, old in ipairs(expired) do
          local amount = redis.call('HGET', KEYS[k + 4], old)
          redis.call('ZREM', KEYS[k + 3], old)
          if amount then
            redis.call('HDEL', KEYS[k + 4], old)
            redis.call('DECRBY', KEYS[k + 5], amount)
          end
        end
        local capN = tonumber(ARGV[a + 5])
        local window = tonumber(ARGV[a + 6])
        if capN > 0 then
          if redis.call('EXISTS', KEYS[k + 6]) == 0 then return 'nocap' end
          redis.call('ZREMRANGEBYSCORE', KEYS[k + 6], '-inf', now)
          if redis.call('ZCARD', KEYS[k + 6]) - 1 >= capN then return 'cap' end
        end
        local reserved = tonumber(redis.call('GET', KEYS[k + 5]) or '0')
        if reserved < 0 then reserved = 0 end
        local cost = tonumber(ARGV[a + 1])
        if tonumber(spent) + reserved + cost > tonumber(ARGV[a + 2]) then return 'total' end
        if tonumber(day) + reserved + cost > tonumber(ARGV[a + 3]) then return 'daily' end
        if tonumber(day) > tonumber(ARGV[a + 4]) then return 'pacing' end
        local expiry = now + ttl
        redis.call('ZADD', KEYS[k + 3], expiry, rid)
        redis.call('HSET', KEYS[k + 4], rid, cost)
        redis.call('INCRBY', KEYS[k + 5], cost)
        redis.call('ZADD', KEYS[k + 7], expiry, rid)
        redis.call('PEXPIRE', KEYS[k + 7], ttl)
        if capN > 0 then
          redis.call('ZADD', KEYS[k + 6], expiry, 'r:' .. rid)
          redis.call('PEXPIRE', KEYS[k + 6], window + ttl)
        end
        return 'ok'
      end
      local out = {'ok'}
      local placed = {}
      local taken = 0
      local n = (#KEYS - 1) / 7
      for i = 1, n do
        if taken >= places then break end
        local k = 1 + (i - 1) * 7
        local a = 5 + (i - 1) * 7
        local item = ARGV[a + 7]
        if not placed[item] then
          local answer = reserve(k, a, ARGV[5] .. ':' .. i)
          if answer == 'ok' then
            taken = taken + 1
            placed[item] = true
            out[#out + 1] = i
          elseif answer == 'nospend' or answer == 'nocap' then
            out[1] = answer
            table.insert(out, 2, i)
            return out
          end
        end
      end
      return out
      """);

  /**
   * KEYS: one candidate's keys as for RESERVE_PAGE (without the version). ARGV: now, cost (added to the cache), consume (1: take the user's oldest reservation off),
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

  /**
   * What a page's reservation came to: the candidates reserved (in rank order), or stale when the campaigns changed
   * since the candidates were read (then nothing was reserved in the call that noticed it).
   */
  public record Reserved(boolean stale, List<Held> held) {}

  /** A candidate reserved, with its reservation's id. */
  public record Held(Campaign campaign, String reservation) {}

  /** How many candidates one call of the page script gets: enough for the places and some that turn out full. */
  static int batch(int places) {
    return Math.max(8, 4 * places);
  }

  /**
   * Reserves up to {@code places} slots for the user among {@code ranked} (best first, one per item), in one script
   * call in the common case: another only when a candidate's spend or the user's cap must be loaded from the ledger
   * first, or when the first {@link #batch} candidates could not fill the places. The first call also checks that
   * the campaigns' version is still {@code version}; if it moved, nothing is reserved and the answer is stale. With
   * no candidate that check is all there is to do, and a plain GET of the version does it.
   */
  public Future<Reserved> reservePage(String version, List<Campaign> ranked, long userId, int places) {
    return reservePage(version, ranked, userId, places, 0, new ArrayList<>(), new HashSet<>(), new HashMap<>(), 0);
  }

  private Future<Reserved> reservePage(String version, List<Campaign> ranked, long userId, int places, int from,
      List<Held> taken, Set<Long> items, Map<Long, Integer> loads, int calls) {
    List<Campaign> batch = new ArrayList<>();
    int next = from;
    while (next < ranked.size() && batch.size() < batch(places)) {
      Campaign c = ranked.get(next++);
      if (!items.contains(c.itemId())) {
        batch.add(c);
      }
    }
    if (batch.isEmpty()) {
      // nothing to reserve (no campaign runs, or none is for this user): the page still learns whether its copy of
      // the campaigns is behind (one that started a moment ago would be missing), with a GET rather than the script
      return calls > 0 ? Future.succeededFuture(new Reserved(false, taken))
          : version(redis).map(now -> new Reserved(!now.equals(version), taken));
    }
    int end = next;
    Instant now = clock.instant();
    LocalDate day = Pacing.day(now);
    List<String> keys = new ArrayList<>(1 + KEYS_PER * batch.size());
    List<String> args = new ArrayList<>(5 + ARGS_PER * batch.size());
    keys.add(VERSION);
    args.add(Long.toString(now.toEpochMilli()));
    args.add(Long.toString(reservationTtlMs));
    args.add(Integer.toString(places - taken.size()));
    args.add(version);
    String rid = rid();
    args.add(rid);
    for (Campaign c : batch) {
      keys.addAll(keys(c.id(), userId, day));
      args.add(Long.toString(c.slotReservationMillifen()));
      args.add(Long.toString(c.budgetTotalFen() * Campaign.MILLIFEN_PER_FEN));
      args.add(Long.toString(c.budgetDailyFen() * Campaign.MILLIFEN_PER_FEN));
      args.add(Long.toString(Pacing.allowanceMillifen(c.budgetDailyFen(), now)));
      args.add(Integer.toString(c.hasCap() ? c.capImpressions() : 0));
      args.add(Long.toString(windowMs(c)));
      args.add(Long.toString(c.itemId()));
    }
    return Redis.bounded(RESERVE_PAGE.run(redis, keys, args)).compose(reply -> {
      String answer = reply.get(0).toString();
      if (answer.equals("stale")) {
        return Future.succeededFuture(new Reserved(calls == 0, taken));
      }
      boolean load = !answer.equals("ok");
      for (int i = load ? 2 : 1; i < reply.size(); i++) {
        int index = reply.get(i).toInteger();
        Campaign c = batch.get(index - 1);
        taken.add(new Held(c, rid + ":" + index));
        items.add(c.itemId());
      }
      if (taken.size() >= places) {
        return Future.succeededFuture(new Reserved(false, taken));
      }
      if (!load) {
        return end >= ranked.size() ? Future.succeededFuture(new Reserved(false, taken))
            : reservePage(version, ranked, userId, places, end, taken, items, loads, calls + 1);
      }
      Campaign missing = batch.get(reply.get(1).toInteger() - 1);
      int at = ranked.indexOf(missing);
      if (loads.merge(missing.id(), 1, Integer::sum) > 3) {
        // loaded three times and still missing (evicted at once?): pass it over, as the single reservation did
        return reservePage(version, ranked, userId, places, at + 1, taken, items, loads, calls + 1);
      }
      Future<Void> loaded = answer.equals("nospend") ? loadSpend(missing.id(), day) : loadCap(missing, userId, now);
      return loaded.compose(v -> reservePage(version, ranked, userId, places, at, taken, items, loads, calls + 1));
    });
  }

  /**
   * KEYS per slot: resv, resvamt, reserved, ures, cap of its campaign and user. ARGV: each slot's reservation id.
   * Takes each reservation off that is still there (a billed event may have taken it already: then nothing).
   */
  private static final RedisScript RELEASE = new RedisScript("""
      for i = 1, #ARGV do
        local k = (i - 1) * 5
        local rid = ARGV[i]
        local amount = redis.call('HGET', KEYS[k + 2], rid)
        if amount then
          redis.call('HDEL', KEYS[k + 2], rid)
          redis.call('ZREM', KEYS[k + 1], rid)
          redis.call('DECRBY', KEYS[k + 3], amount)
        end
        redis.call('ZREM', KEYS[k + 4], rid)
        redis.call('ZREM', KEYS[k + 5], 'r:' .. rid)
      end
      return 'ok'
      """);

  /** Gives back the reservations of slots that were served but not shown, in one call. */
  public Future<Void> release(long userId, List<Serving.Slot> slots) {
    LocalDate day = Pacing.day(clock.instant());
    List<String> keys = new ArrayList<>(5 * slots.size());
    List<String> args = new ArrayList<>(slots.size());
    for (Serving.Slot s : slots) {
      List<String> k = keys(s.campaignId(), userId, day);
      keys.add(k.get(2));
      keys.add(k.get(3));
      keys.add(k.get(4));
      keys.add(k.get(6));
      keys.add(k.get(5));
      args.add(s.reservation());
    }
    return Redis.bounded(RELEASE.run(redis, keys, args)).mapEmpty();
  }

  /** A reservation id: unique among a campaign's reservations (128 random bits), cheap to make. */
  private static String rid() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong());
  }

  /**
   * Tells every server that the campaigns changed (a campaign written, a merchant suspended or reactivated): their
   * copies of the active campaigns are read again before the next page reserves anything.
   */
  public static Future<Void> changed(RedisAPI redis) {
    return Redis.bounded(redis.incr(VERSION)).mapEmpty();
  }

  /** The campaigns' version now ("0" when Redis has none, as after a flush). */
  static Future<String> version(RedisAPI redis) {
    return Redis.bounded(redis.get(VERSION)).map(Budgets::version);
  }

  /** The read of the campaigns' version, for a caller that sends it with reads of its own (one round trip). */
  static io.vertx.redis.client.Request versionRead() {
    return io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.GET).arg(VERSION);
  }

  /** {@link #versionRead}'s reply as the version ("0" when Redis has none). */
  static String version(io.vertx.redis.client.Response reply) {
    return reply == null ? "0" : reply.toString();
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

  /**
   * All of the campaigns' serving keys share one hash tag, so that a page's reservation over several campaigns is one
   * script on one Redis Cluster slot (the price: they all live on one shard, one script call per page).
   */
  static final String PREFIX = "wxmp:camp:{camp}:";
  static final String VERSION = PREFIX + "version";

  /** The cached spend of a campaign (tests simulate a lost Redis by deleting these, or with FLUSHALL). */
  public static List<String> spendKeys(long campaignId, LocalDate day) {
    String base = PREFIX + campaignId + ":";
    return List.of(base + "spent", base + "day:" + DAY.format(day));
  }

  /** A {@code KEYS}/{@code SCAN} pattern for every key of one campaign. */
  public static String keyPattern(long campaignId) {
    return PREFIX + campaignId + ":*";
  }

  static List<String> keys(long campaignId, long userId, LocalDate day) {
    String base = PREFIX + campaignId + ":";
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

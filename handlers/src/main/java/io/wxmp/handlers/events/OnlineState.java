package io.wxmp.handlers.events;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.wxmp.handlers.common.Redis;
import io.wxmp.handlers.common.RedisScript;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The feed's online view of each user in Redis, written as events arrive and read on every feed page: recent
 * interactions with decayed confidence, unclicked impressions (fatigue), interest tags, and the global trending list.
 *
 * <p>Decay without rewriting: an event of weight w at time t adds {@code w * 2^((t - T0) / halfLife)} to a score;
 * the decayed value at time now is that sum times {@code 2^(-(now - T0) / halfLife)}. Increments commute, so
 * out-of-order and concurrent events need no read-modify-write. A user's keys share the hash tag {@code {u:<id>}}
 * (one Redis Cluster slot), so one script updates them atomically; trending lives in its own slot.
 */
public final class OnlineState {
  /** A user's recent interactions, newest first, at most {@link #HISTORY_CAP}; strengths are decayed confidences. */
  public record History(List<String> itemIds, float[] strengths) {}

  /** One stored event as the online state sees it; {@code tags} are the item's tags. */
  public record Signal(long eventId, String itemId, String type, Instant at, List<String> tags) {}

  public static final int HISTORY_CAP = 300;
  /** Summed decayed confidence per item is capped (RECSYS.md §4.2: "summed per (user, item) with a cap"). */
  public static final float STRENGTH_CAP = 20f;
  static final long HISTORY_HALF_LIFE_MS = 60L * 86_400_000;
  static final long TAGS_HALF_LIFE_MS = 30L * 86_400_000;
  static final long TRENDING_HALF_LIFE_MS = 86_400_000;
  static final long IMPRESSION_WINDOW_MS = 7L * 86_400_000;
  static final int IMPRESSION_CAP = 500;
  static final int TAGS_KEPT = 64;
  static final int RECENT_TAGS = 20;
  static final int TRENDING_KEPT = 10_000;
  static final long USER_TTL_SEC = 180L * 86_400;
  /** The fixed origin of the decay exponents (history, tags): 2026-01-01T00:00Z. */
  static final long T0_MS = 1_767_225_600_000L;

  /**
   * Lua for the scripts below: {@code history(cap)}, the flat list (item, scaled strength, ...) of KEYS[1] hist:t's
   * newest {@code cap} items with their strengths from KEYS[2] hist:w. The strengths are read in one pass (hist:w is
   * capped with hist:t), not one ZSCORE per item: a set of up to 128 members is kept in Redis's compact encoding,
   * where each ZSCORE is a scan that parses the scores on its way.
   */
  private static final String HISTORY_LUA = """
      local function history(cap)
        local strengths = {}
        local ws = redis.call('zrange', KEYS[2], 0, -1, 'WITHSCORES')
        for i = 1, #ws, 2 do
          strengths[ws[i]] = ws[i + 1]
        end
        local out = {}
        for _, item in ipairs(redis.call('zrevrange', KEYS[1], 0, cap - 1)) do
          local s = strengths[item]
          if s then
            out[#out + 1] = item
            out[#out + 1] = s
          end
        end
        return out
      end
      """;

  /**
   * Lua for the scripts below: {@code unclicked}, the flat list (item, impressions since its last engagement, ...)
   * from KEYS[1] imp and KEYS[2] eng, counting impressions at or after ARGV[1]. The engagements are read in one range
   * (only those at or after ARGV[1] can be later than an impression counted), not one ZSCORE per impression: a user
   * with 300 impressions cost Redis 496 µs a page that way, 227 µs so (6.2, unloaded; BENCHMARKS run 13).
   */
  private static final String UNCLICKED_LUA = """
      local imps = redis.call('zrangebyscore', KEYS[1], ARGV[1], '+inf', 'WITHSCORES')
      local counts, order = {}, {}
      if #imps > 0 then
        local engaged = {}
        local engs = redis.call('zrangebyscore', KEYS[2], ARGV[1], '+inf', 'WITHSCORES')
        for i = 1, #engs, 2 do
          engaged[engs[i]] = tonumber(engs[i + 1])
        end
        for i = 1, #imps, 2 do
          local member, at = imps[i], tonumber(imps[i + 1])
          local item = string.match(member, '^(.*):[^:]*$')
          if at > (engaged[item] or -1) then
            if not counts[item] then
              counts[item] = 0
              order[#order + 1] = item
            end
            counts[item] = counts[item] + 1
          end
        end
      end
      local unclicked = {}
      for _, item in ipairs(order) do
        unclicked[#unclicked + 1] = item
        unclicked[#unclicked + 1] = counts[item]
      end
      """;

  /**
   * KEYS: hist:t (item -> last time), hist:w (item -> scaled strength), imp ("item:event" -> time), eng (item -> last
   * engagement time), tags (tag -> scaled score). ARGV: now, n, then n x (item, eventId, atMs, scaledWeight or "",
   * kind: i = impression, e = engagement, - = neither), then m, m x (tag, scaledScore), then the impression window
   * (ms), the user TTL (s), the caps of history, impressions and tags, and "1" to answer with the history as
   * {@link #HISTORY} does (the fold-in's read, in the same round trip), else "0".
   *
   * <p>Cheap on Redis's one thread, where every batch of every user runs: the members of one key go in one ZADD
   * (times are passed through as the strings they came as), a strength is read back only after a negative weight
   * (a refund), and a TTL is set a day (history, tags) or an hour (impressions, engagements) past its term and pushed
   * out again only once it is down to the term, not rewritten (and appended to the AOF) by every batch: a key lives
   * at least its term after its last write. Only the keys written are trimmed, and a trim with nothing to trim costs
   * a lookup.
   */
  private static final RedisScript RECORD = new RedisScript(HISTORY_LUA + """
      local now = tonumber(ARGV[1])
      local n = tonumber(ARGV[2])
      local p = 3
      local hist = false
      local imps, engs, times = {}, {}, {}
      for i = 1, n do
        local item, ev, at, w, kind = ARGV[p], ARGV[p+1], ARGV[p+2], ARGV[p+3], ARGV[p+4]
        p = p + 5
        if kind == 'i' then
          imps[#imps + 1] = at
          imps[#imps + 1] = item .. ':' .. ev
        elseif kind == 'e' then
          engs[#engs + 1] = at
          engs[#engs + 1] = item
        end
        if w ~= '' then
          hist = true
          if string.sub(w, 1, 1) == '-' then
            -- a strength can fall to nothing: the times so far go in first, in the order they came
            if #times > 0 then
              redis.call('zadd', KEYS[1], 'GT', unpack(times))
              times = {}
            end
            local s = tonumber(redis.call('zincrby', KEYS[2], w, item))
            if s <= 1e-9 then
              redis.call('zrem', KEYS[2], item)
              redis.call('zrem', KEYS[1], item)
            else
              redis.call('zadd', KEYS[1], 'GT', at, item)
            end
          else
            redis.call('zincrby', KEYS[2], w, item)
            times[#times + 1] = at
            times[#times + 1] = item
          end
        end
      end
      if #imps > 0 then
        redis.call('zadd', KEYS[3], unpack(imps))
      end
      if #engs > 0 then
        redis.call('zadd', KEYS[4], 'GT', unpack(engs))
      end
      if #times > 0 then
        redis.call('zadd', KEYS[1], 'GT', unpack(times))
      end
      local m = tonumber(ARGV[p])
      p = p + 1
      for i = 1, m do
        redis.call('zincrby', KEYS[5], ARGV[p+1], ARGV[p])
        p = p + 2
      end
      local window = tonumber(ARGV[p])
      local horizon = now - window
      local ttl = tonumber(ARGV[p+1])
      local histCap, impCap, tagsCap = tonumber(ARGV[p+2]), tonumber(ARGV[p+3]), tonumber(ARGV[p+4])
      if hist then
        local extra = redis.call('zcard', KEYS[1]) - histCap
        if extra > 0 then
          local old = redis.call('zrange', KEYS[1], 0, extra - 1)
          redis.call('zrem', KEYS[1], unpack(old))
          redis.call('zrem', KEYS[2], unpack(old))
        end
        if redis.call('ttl', KEYS[1]) < ttl or redis.call('ttl', KEYS[2]) < ttl then
          redis.call('expire', KEYS[1], ttl + 86400)
          redis.call('expire', KEYS[2], ttl + 86400)
        end
      end
      for k = 3, 4 do
        if (k == 3 and #imps > 0) or (k == 4 and #engs > 0) then
          redis.call('zremrangebyscore', KEYS[k], '-inf', '(' .. horizon)
          redis.call('zremrangebyrank', KEYS[k], 0, -(impCap + 1))
          if redis.call('pttl', KEYS[k]) < window then
            redis.call('pexpire', KEYS[k], window + 3600000)
          end
        end
      end
      if m > 0 then
        redis.call('zremrangebyrank', KEYS[5], 0, -(tagsCap + 1))
        if redis.call('ttl', KEYS[5]) < ttl then
          redis.call('expire', KEYS[5], ttl + 86400)
        end
      end
      if ARGV[p+5] ~= '1' then
        return 1
      end
      return history(histCap)""");

  /** KEYS: trending, epoch. ARGV: now, halfLife, kept, then pairs (item, atMs, weight). */
  private static final RedisScript TRENDING = new RedisScript("""
      local now = tonumber(ARGV[1])
      local h = tonumber(ARGV[2])
      local epoch = tonumber(redis.call('get', KEYS[2]))
      if not epoch then
        epoch = now
        redis.call('set', KEYS[2], epoch)
      end
      local e = (now - epoch) / h
      if e > 256 then
        local shift = math.floor(e)
        redis.call('zunionstore', KEYS[1], 1, KEYS[1], 'WEIGHTS', 2 ^ (-shift))
        epoch = epoch + shift * h
        redis.call('set', KEYS[2], epoch)
      end
      for p = 4, #ARGV, 3 do
        local x = (tonumber(ARGV[p+1]) - epoch) / h
        redis.call('zincrby', KEYS[1], tonumber(ARGV[p+2]) * 2 ^ x, ARGV[p])
      end
      redis.call('zremrangebyrank', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
      return 1""");

  /**
   * KEYS: hist:t, hist:w. ARGV: cap. Flat reply: item, scaled strength, ... newest first ({@link #HISTORY_LUA}).
   */
  private static final RedisScript HISTORY = new RedisScript(HISTORY_LUA + """
      return history(tonumber(ARGV[1]))""");

  /** KEYS: imp, eng. ARGV: horizon. Flat reply: item, impressions since its last engagement, ... */
  private static final RedisScript UNCLICKED = new RedisScript(UNCLICKED_LUA + """
      return unclicked""");

  /**
   * A feed page's reads of one user in one call: {@link #UNCLICKED}'s answer, the recent tags and, where asked, a GET
   * and an SMEMBERS of two more keys of the user's. KEYS: imp, eng, tags, [get key], [members key]. ARGV: horizon,
   * recent tags, 1/0 for the GET, 1/0 for the SMEMBERS. Reply: {unclicked flat, tags, got or nil, members or nil}.
   */
  private static final RedisScript PAGE = new RedisScript(UNCLICKED_LUA + """
      local tags = redis.call('zrevrange', KEYS[3], 0, tonumber(ARGV[2]) - 1)
      local k = 4
      local got = false
      if ARGV[3] == '1' then
        got = redis.call('get', KEYS[k])
        k = k + 1
      end
      local members = false
      if ARGV[4] == '1' then
        members = redis.call('smembers', KEYS[k])
      end
      return {unclicked, tags, got, members}""");

  private static final String TRENDING_KEY = "wxmp:{trending}:items";
  private static final String TRENDING_EPOCH_KEY = "wxmp:{trending}:epoch";

  private final RedisAPI redis;
  private final EventWeights weights;

  public OnlineState(RedisAPI redis, EventWeights weights) {
    this.redis = redis;
    this.weights = weights;
  }

  public EventWeights weights() {
    return weights;
  }

  // ---- reads ----

  /** Decayed confidence per item from the user's events (not impressions), newest first, capped per item. */
  public Future<History> history(String userId) {
    return Redis.bounded(HISTORY.run(redis, List.of(key(userId, "hist:t"), key(userId, "hist:w")),
        List.of(Integer.toString(HISTORY_CAP)))).map(OnlineState::history);
  }

  /** The flat reply (item, scaled strength, ...) as decayed, capped strengths. */
  private static History history(Response reply) {
    double decay = Math.pow(2, -(double) (System.currentTimeMillis() - T0_MS) / HISTORY_HALF_LIFE_MS);
    int n = reply == null ? 0 : reply.size() / 2;
    List<String> items = new ArrayList<>(n);
    float[] strengths = new float[n];
    for (int i = 0; i < n; i++) {
      items.add(reply.get(2 * i).toString());
      strengths[i] = (float) Math.min(STRENGTH_CAP, Double.parseDouble(reply.get(2 * i + 1).toString()) * decay);
    }
    return new History(items, strengths);
  }

  /** Per item, the impressions in the last 7 days that came after the user's last engagement with it. */
  public Future<Map<String, Integer>> unclickedImpressions(String userId) {
    long horizon = System.currentTimeMillis() - IMPRESSION_WINDOW_MS;
    return Redis.bounded(UNCLICKED.run(redis, List.of(key(userId, "imp"), key(userId, "eng")),
        List.of(Long.toString(horizon)))).map(reply -> {
          Map<String, Integer> counts = new LinkedHashMap<>();
          for (int i = 0; reply != null && i + 1 < reply.size(); i += 2) {
            counts.put(reply.get(i).toString(), reply.get(i + 1).toInteger());
          }
          return counts;
        });
  }

  /**
   * What a feed page reads of one user, in one call: {@link #unclickedImpressions}, {@link #recentTags}, and the
   * values of {@code getKey} (GET) and {@code membersKey} (SMEMBERS) where not null. Both keys must be the user's
   * (hash tag {@code {u:<id>}}), so the script stays in the user's Redis Cluster slot.
   *
   * @param got     the GET's value, null where the key is missing or was not asked for
   * @param members the SMEMBERS answer, null where it was not asked for (empty where the key is missing)
   */
  public record PageState(Map<String, Integer> unclicked, Set<String> recentTags, String got, Set<String> members) {}

  public Future<PageState> pageState(String userId, String getKey, String membersKey) {
    String tag = "wxmp:{u:" + userId + "}:";
    if ((getKey != null && !getKey.startsWith(tag)) || (membersKey != null && !membersKey.startsWith(tag))) {
      return Future.failedFuture(new IllegalArgumentException("not a key of user " + userId));
    }
    long horizon = System.currentTimeMillis() - IMPRESSION_WINDOW_MS;
    List<String> keys = new ArrayList<>(List.of(key(userId, "imp"), key(userId, "eng"), key(userId, "tags")));
    if (getKey != null) {
      keys.add(getKey);
    }
    if (membersKey != null) {
      keys.add(membersKey);
    }
    List<String> args = List.of(Long.toString(horizon), Integer.toString(RECENT_TAGS), getKey != null ? "1" : "0",
        membersKey != null ? "1" : "0");
    return Redis.bounded(PAGE.run(redis, keys, args)).map(reply -> {
      Response u = reply.get(0);
      Map<String, Integer> counts = new LinkedHashMap<>();
      for (int i = 0; u != null && i + 1 < u.size(); i += 2) {
        counts.put(u.get(i).toString(), u.get(i + 1).toInteger());
      }
      Set<String> tags = new LinkedHashSet<>(strings(reply.get(1)));
      Response g = reply.size() > 2 ? reply.get(2) : null;
      Response m = reply.size() > 3 ? reply.get(3) : null;
      Set<String> members = null;
      if (membersKey != null) {
        members = new HashSet<>();
        if (m != null) {
          for (Response x : m) {
            members.add(x.toString());
          }
        }
      }
      return new PageState(counts, tags, getKey == null || g == null ? null : g.toString(), members);
    });
  }

  /** The most popular items by time-decayed engagement (half-life a day), most popular first. */
  public Future<List<String>> trending(int n) {
    if (n <= 0) {
      return Future.succeededFuture(List.of());
    }
    return Redis.bounded(redis.zrevrange(List.of(TRENDING_KEY, "0", Integer.toString(n - 1)))).map(OnlineState::strings);
  }

  /** The user's strongest recent interest tags, from their events' items and their quiz answers, strongest first. */
  public Future<Set<String>> recentTags(String userId) {
    return Redis.bounded(redis.zrevrange(List.of(key(userId, "tags"), "0", Integer.toString(RECENT_TAGS - 1))))
        .map(reply -> new LinkedHashSet<>(strings(reply)));
  }

  /** Erases the user's online state (DELETE /me); their share of trending is anonymous and stays. */
  public Future<Void> forget(String userId) {
    return Redis.bounded(redis.del(userKeys(userId))).mapEmpty();
  }

  // ---- writes ----

  /** Folds a user's newly stored events in: history, impressions, engagement, tags, and trending. */
  public Future<Void> record(String userId, List<Signal> signals) {
    return record(userId, signals, false).mapEmpty();
  }

  /**
   * {@link #record(String, List)}, and with {@code readHistory} the user's {@link #history} as it stands after these
   * events, read by the same script; null without.
   */
  public Future<History> record(String userId, List<Signal> signals, boolean readHistory) {
    if (signals.isEmpty()) {
      return readHistory ? history(userId) : Future.succeededFuture();
    }
    long now = System.currentTimeMillis();
    List<String> args = new ArrayList<>();
    args.add(Long.toString(now));
    args.add(Integer.toString(signals.size()));
    Map<String, Double> tagScores = new HashMap<>();
    List<String> trendingArgs = new ArrayList<>(List.of(Long.toString(now), Long.toString(TRENDING_HALF_LIFE_MS),
        Integer.toString(TRENDING_KEPT)));
    for (Signal s : signals) {
      long at = s.at().toEpochMilli();
      float w = weights.weight(s.type());
      args.add(s.itemId());
      args.add(Long.toString(s.eventId()));
      args.add(Long.toString(at));
      args.add(w == 0 ? "" : Double.toString(w * scale(at, HISTORY_HALF_LIFE_MS)));
      args.add("impression".equals(s.type()) ? "i" : w > 0 ? "e" : "-");
      if (w > 0) {
        for (String tag : s.tags()) {
          tagScores.merge(tag, w * scale(at, TAGS_HALF_LIFE_MS), Double::sum);
        }
        trendingArgs.add(s.itemId());
        trendingArgs.add(Long.toString(at));
        trendingArgs.add(Float.toString(w));
      }
    }
    appendTags(args, tagScores);
    args.add(readHistory ? "1" : "0");
    Future<Response> user = Redis.bounded(RECORD.run(redis, userKeys(userId), args));
    Future<Response> trending = trendingArgs.size() > 3
        ? Redis.bounded(TRENDING.run(redis, List.of(TRENDING_KEY, TRENDING_EPOCH_KEY), trendingArgs))
        : Future.succeededFuture();
    return Future.all(user, trending).map(v -> readHistory ? history(user.result()) : null);
  }

  /** Interest tags from outside events (quiz answers: {@code user_interest_events}), weighted by the quiz weight. */
  public Future<Void> addInterests(String userId, Map<String, Float> tagWeights, Instant at) {
    float quiz = weights.weight("quiz");
    if (tagWeights.isEmpty() || quiz <= 0) {
      return Future.succeededFuture();
    }
    Map<String, Double> scores = new HashMap<>();
    double scale = scale(at.toEpochMilli(), TAGS_HALF_LIFE_MS);
    tagWeights.forEach((tag, w) -> scores.merge(tag, quiz * w * scale, Double::sum));
    List<String> args = new ArrayList<>(List.of(Long.toString(System.currentTimeMillis()), "0"));
    appendTags(args, scores);
    args.add("0");
    return Redis.bounded(RECORD.run(redis, userKeys(userId), args)).mapEmpty();
  }

  private static void appendTags(List<String> args, Map<String, Double> tagScores) {
    args.add(Integer.toString(tagScores.size()));
    tagScores.forEach((tag, score) -> {
      args.add(tag);
      args.add(Double.toString(score));
    });
    args.add(Long.toString(IMPRESSION_WINDOW_MS));
    args.add(Long.toString(USER_TTL_SEC));
    args.add(Integer.toString(HISTORY_CAP));
    args.add(Integer.toString(IMPRESSION_CAP));
    args.add(Integer.toString(TAGS_KEPT));
  }

  private static double scale(long atMs, long halfLifeMs) {
    return Math.pow(2, (double) (atMs - T0_MS) / halfLifeMs);
  }

  private static List<String> userKeys(String userId) {
    return List.of(key(userId, "hist:t"), key(userId, "hist:w"), key(userId, "imp"), key(userId, "eng"),
        key(userId, "tags"));
  }

  static String key(String userId, String what) {
    return "wxmp:{u:" + userId + "}:" + what;
  }

  private static List<String> strings(Response reply) {
    List<String> out = new ArrayList<>();
    if (reply != null) {
      reply.forEach(r -> out.add(r.toString()));
    }
    return out;
  }
}

package io.wxmp.handlers.common;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.function.LongFunction;

/**
 * Bearer tokens: 256 random bits, handed to the client once; Redis keeps only their SHA-256 with an expiry, so a
 * Redis dump holds no usable token. User, merchant and operator tokens live under different prefixes, so one kind
 * never opens the other's routes. Deleting the key revokes the token.
 *
 * <p>Each owner (a user, a merchant account, an operator) also has an index of its live tokens (a sorted set of
 * digests scored by expiry), written before the token itself, so "revoke every token of X" (log out everywhere, a
 * password change, a disabled account, a suspended merchant, an erased user) never misses one. The index and the
 * token are different keys (different cluster slots), so they are written one after the other, never in one script.
 */
public final class Sessions {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String USER_PREFIX = "wxmp:session:user:";
  private static final String MERCHANT_PREFIX = "wxmp:session:merchant:";
  private static final String OPERATOR_PREFIX = "wxmp:session:operator:";
  private static final String INDEX_PREFIX = "wxmp:session-index:";
  /** Adds a digest to an owner's index, drops expired ones, and keeps the index alive as long as its newest token. */
  private static final RedisScript INDEX_ADD = new RedisScript("""
      redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[3])
      redis.call('zadd', KEYS[1], ARGV[2], ARGV[1])
      local ttl = redis.call('ttl', KEYS[1])
      if ttl < tonumber(ARGV[4]) then redis.call('expire', KEYS[1], ARGV[4]) end
      return 1""");

  private final RedisAPI redis;
  /** The client for pipelined batches ({@link #userAnd}), or null where keys of two users' slots cannot share one. */
  private final io.vertx.redis.client.Redis batches;
  /**
   * Whose each user token seen here is: a token never changes owner (it is only ever deleted), so a known owner lets
   * {@link #userAnd} read the session and the owner's data in one round trip.
   */
  private final Cache<String, UserPrincipal> owners = Caffeine.newBuilder().maximumSize(65_536).build();
  private final long userTtlSeconds;
  private final long merchantTtlSeconds;
  private final long operatorTtlSeconds;

  public Sessions(RedisAPI redis, long userTtlSeconds, long merchantTtlSeconds) {
    this(redis, userTtlSeconds, merchantTtlSeconds, merchantTtlSeconds);
  }

  public Sessions(RedisAPI redis, long userTtlSeconds, long merchantTtlSeconds, long operatorTtlSeconds) {
    this(redis, null, userTtlSeconds, merchantTtlSeconds, operatorTtlSeconds);
  }

  /**
   * {@code batches}: the client behind {@code redis}, for {@link #userAnd}'s pipelined batch; null in Redis Cluster
   * mode, where a batch must stay in one slot and a session and a user's data are in different ones.
   */
  public Sessions(RedisAPI redis, io.vertx.redis.client.Redis batches, long userTtlSeconds, long merchantTtlSeconds,
      long operatorTtlSeconds) {
    this.redis = redis;
    this.batches = batches;
    this.userTtlSeconds = userTtlSeconds;
    this.merchantTtlSeconds = merchantTtlSeconds;
    this.operatorTtlSeconds = operatorTtlSeconds;
  }

  /** Whose tokens an index holds. */
  public enum Owner {
    USER(USER_PREFIX), MERCHANT_ACCOUNT(MERCHANT_PREFIX), OPERATOR(OPERATOR_PREFIX);

    private final String prefix;

    Owner(String prefix) {
      this.prefix = prefix;
    }

    String indexKey(long id) {
      return INDEX_PREFIX + name().toLowerCase(java.util.Locale.ROOT) + ":" + id;
    }
  }

  public long userTtlSeconds() {
    return userTtlSeconds;
  }

  public long merchantTtlSeconds() {
    return merchantTtlSeconds;
  }

  public long operatorTtlSeconds() {
    return operatorTtlSeconds;
  }

  public Future<String> issueUser(UserPrincipal user) {
    JsonObject value = new JsonObject().put("uid", user.userId()).put("openid", user.openid());
    return issue(Owner.USER, user.userId(), value, userTtlSeconds);
  }

  public Future<String> issueMerchant(MerchantPrincipal merchant) {
    return issue(Owner.MERCHANT_ACCOUNT, merchant.accountId(), merchantValue(merchant), merchantTtlSeconds);
  }

  public Future<String> issueOperator(OperatorPrincipal operator) {
    JsonObject value = new JsonObject().put("oid", operator.operatorId()).put("username", operator.username());
    return issue(Owner.OPERATOR, operator.operatorId(), value, operatorTtlSeconds);
  }

  /** The user behind a token, or a failed future with 401. */
  public Future<UserPrincipal> user(String token) {
    return lookup(USER_PREFIX, token).map(v -> new UserPrincipal(v.getLong("uid"), v.getString("openid")));
  }

  /** A user token's principal and what {@link #userAnd}'s extra read answered (null when it was not sent with it). */
  public record UserAnd(UserPrincipal user, Response also) {}

  /**
   * {@link #user}, and {@code also} (a read of that user's) in the same round trip when the token's owner is known
   * here: the session read and {@code also} go as one pipelined batch, and the session counts only if it still
   * exists (a revoked or expired token is 401 as ever). Otherwise the session alone, with {@code also} null: the
   * caller reads it next.
   */
  public Future<UserAnd> userAnd(String token, LongFunction<Request> also) {
    if (token == null || token.length() < 20 || token.length() > 100) {
      return Future.failedFuture(ApiException.unauthorized());
    }
    String digest = digest(token);
    UserPrincipal known = batches == null ? null : owners.getIfPresent(digest);
    if (known == null) {
      return Redis.bounded(redis.get(USER_PREFIX + digest)).compose((Response r) -> {
        if (r == null) {
          return Future.failedFuture(ApiException.unauthorized());
        }
        JsonObject v = new JsonObject(r.toString());
        UserPrincipal user = new UserPrincipal(v.getLong("uid"), v.getString("openid"));
        owners.put(digest, user);
        return Future.succeededFuture(new UserAnd(user, null));
      });
    }
    return Redis.bounded(batches.batch(List.of(Request.cmd(Command.GET).arg(USER_PREFIX + digest),
            also.apply(known.userId()))))
        .compose(replies -> replies.get(0) == null
            ? Future.failedFuture(ApiException.unauthorized())
            : Future.succeededFuture(new UserAnd(known, replies.get(1))));
  }

  /** A user token's principal and the replies of {@link #userAndAll}'s extra reads (null when not sent with it). */
  public record UserAndAll(UserPrincipal user, List<Response> also) {}

  /**
   * {@link #userAnd} with several reads (of any slots: a pipelined batch is not a transaction) sent with the
   * session's; their replies in the order given. Should the batch fail, the session is read alone (the extra reads'
   * replies null), so a failing extra read never fails the request.
   */
  public Future<UserAndAll> userAndAll(String token, LongFunction<List<Request>> also) {
    if (token == null || token.length() < 20 || token.length() > 100) {
      return Future.failedFuture(ApiException.unauthorized());
    }
    String digest = digest(token);
    UserPrincipal known = batches == null ? null : owners.getIfPresent(digest);
    if (known == null) {
      return user(token).map(user -> {
        owners.put(digest, user);
        return new UserAndAll(user, null);
      });
    }
    List<Request> reads = also.apply(known.userId());
    List<Request> batch = new ArrayList<>(reads.size() + 1);
    batch.add(Request.cmd(Command.GET).arg(USER_PREFIX + digest));
    batch.addAll(reads);
    return Redis.bounded(batches.batch(batch))
        .compose(replies -> replies.get(0) == null
            ? Future.failedFuture(ApiException.unauthorized())
            : Future.succeededFuture(new UserAndAll(known, replies.subList(1, replies.size()))),
            // a batch fails as a whole when one read does (a wrong type, a script error): the session alone then
            failure -> user(token).map(user -> new UserAndAll(user, null)));
  }

  public Future<MerchantPrincipal> merchant(String token) {
    return lookup(MERCHANT_PREFIX, token)
        .map(v -> new MerchantPrincipal(v.getLong("aid"), v.getLong("mid"), Role.fromWire(v.getString("role")),
            v.getBoolean("mcp", false)));
  }

  public Future<OperatorPrincipal> operator(String token) {
    return lookup(OPERATOR_PREFIX, token)
        .map(v -> new OperatorPrincipal(v.getLong("oid"), v.getString("username")));
  }

  public Future<Void> revokeUser(String token) {
    return revoke(USER_PREFIX, token);
  }

  public Future<Void> revokeMerchant(String token) {
    return revoke(MERCHANT_PREFIX, token);
  }

  public Future<Void> revokeOperator(String token) {
    return revoke(OPERATOR_PREFIX, token);
  }

  /**
   * Rewrites a live merchant token's principal in place, keeping its expiry (the password was changed, so the token
   * that changed it no longer has to).
   */
  public Future<Void> replaceMerchant(String token, MerchantPrincipal merchant) {
    return Redis.bounded(redis.set(List.of(MERCHANT_PREFIX + digest(token), merchantValue(merchant).encode(), "XX",
        "KEEPTTL"))).mapEmpty();
  }

  /** Revokes every token of an owner, except {@code keepToken} (null: all of them). */
  public Future<Void> revokeAll(Owner owner, long id, String keepToken) {
    String index = owner.indexKey(id);
    String keep = keepToken == null ? null : digest(keepToken);
    return Redis.bounded(redis.zrange(List.of(index, "0", "-1"))).compose(members -> {
      List<String> digests = new ArrayList<>();
      if (members != null) {
        members.forEach(m -> {
          if (!m.toString().equals(keep)) {
            digests.add(m.toString());
          }
        });
      }
      if (digests.isEmpty()) {
        return Future.succeededFuture();
      }
      List<Future<Response>> deletes = new ArrayList<>();
      for (String d : digests) {
        deletes.add(Redis.bounded(redis.del(List.of(owner.prefix + d))));
      }
      List<String> zrem = new ArrayList<>();
      zrem.add(index);
      zrem.addAll(digests);
      return Future.all(deletes).compose(v -> Redis.bounded(redis.zrem(zrem))).mapEmpty();
    });
  }

  private static JsonObject merchantValue(MerchantPrincipal merchant) {
    JsonObject value = new JsonObject().put("aid", merchant.accountId()).put("mid", merchant.merchantId())
        .put("role", merchant.role().wire());
    if (merchant.mustChangePassword()) {
      value.put("mcp", true);
    }
    return value;
  }

  private Future<String> issue(Owner owner, long ownerId, JsonObject value, long ttlSeconds) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    String digest = digest(token);
    long now = System.currentTimeMillis();
    return Redis.bounded(INDEX_ADD.run(redis, List.of(owner.indexKey(ownerId)), List.of(digest,
            Long.toString(now + ttlSeconds * 1000), Long.toString(now), Long.toString(ttlSeconds))))
        .compose(indexed -> Redis.bounded(redis.set(List.of(owner.prefix + digest, value.encode(), "EX",
            Long.toString(ttlSeconds)))))
        .map(ok -> token);
  }

  private Future<Void> revoke(String prefix, String token) {
    if (token == null) {
      return Future.succeededFuture();
    }
    return Redis.bounded(redis.del(List.of(prefix + digest(token)))).mapEmpty();
  }

  private Future<JsonObject> lookup(String prefix, String token) {
    if (token == null || token.length() < 20 || token.length() > 100) {
      return Future.failedFuture(ApiException.unauthorized());
    }
    return Redis.bounded(redis.get(prefix + digest(token))).compose((Response r) -> r == null
        ? Future.failedFuture(ApiException.unauthorized())
        : Future.succeededFuture(new JsonObject(r.toString())));
  }

  static String digest(String token) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

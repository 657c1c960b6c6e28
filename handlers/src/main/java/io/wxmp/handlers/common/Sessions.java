package io.wxmp.handlers.common;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * Bearer tokens: 256 random bits, handed to the client once; Redis keeps only their SHA-256 with an expiry, so a
 * Redis dump holds no usable token. User and merchant tokens live under different prefixes, so one kind never
 * opens the other's routes. Deleting the key revokes the token.
 */
public final class Sessions {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String USER_PREFIX = "wxmp:session:user:";
  private static final String MERCHANT_PREFIX = "wxmp:session:merchant:";

  private final RedisAPI redis;
  private final long userTtlSeconds;
  private final long merchantTtlSeconds;

  public Sessions(RedisAPI redis, long userTtlSeconds, long merchantTtlSeconds) {
    this.redis = redis;
    this.userTtlSeconds = userTtlSeconds;
    this.merchantTtlSeconds = merchantTtlSeconds;
  }

  public long userTtlSeconds() {
    return userTtlSeconds;
  }

  public long merchantTtlSeconds() {
    return merchantTtlSeconds;
  }

  public Future<String> issueUser(UserPrincipal user) {
    JsonObject value = new JsonObject().put("uid", user.userId()).put("openid", user.openid());
    return issue(USER_PREFIX, value, userTtlSeconds);
  }

  public Future<String> issueMerchant(MerchantPrincipal merchant) {
    JsonObject value = new JsonObject().put("aid", merchant.accountId()).put("mid", merchant.merchantId())
        .put("role", merchant.role().wire());
    return issue(MERCHANT_PREFIX, value, merchantTtlSeconds);
  }

  /** The user behind a token, or a failed future with 401. */
  public Future<UserPrincipal> user(String token) {
    return lookup(USER_PREFIX, token).map(v -> new UserPrincipal(v.getLong("uid"), v.getString("openid")));
  }

  public Future<MerchantPrincipal> merchant(String token) {
    return lookup(MERCHANT_PREFIX, token)
        .map(v -> new MerchantPrincipal(v.getLong("aid"), v.getLong("mid"), Role.fromWire(v.getString("role"))));
  }

  public Future<Void> revokeUser(String token) {
    return Redis.bounded(redis.del(List.of(USER_PREFIX + digest(token)))).mapEmpty();
  }

  public Future<Void> revokeMerchant(String token) {
    return Redis.bounded(redis.del(List.of(MERCHANT_PREFIX + digest(token)))).mapEmpty();
  }

  private Future<String> issue(String prefix, JsonObject value, long ttlSeconds) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    return Redis.bounded(redis.set(List.of(prefix + digest(token), value.encode(), "EX", Long.toString(ttlSeconds))))
        .map(ok -> token);
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

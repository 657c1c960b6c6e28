package io.wxmp.handlers.admin;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Redis;
import io.wxmp.handlers.common.RedisScript;
import java.util.List;
import java.util.Locale;

/**
 * Limits admin login tries per username in Redis (shared by every server instance). Each try is counted before its
 * password is checked, in one script with the limit check, so concurrent guesses cannot all pass the check before
 * any failure is counted; a successful login clears the count. After {@code maxFailures} tries within the window,
 * further attempts get 429 with {@code Retry-After} until the window ends, right password or not.
 */
public final class LoginThrottle {
  /** Over the limit: minus the seconds left in the window; else counts the try (starting the window) and returns n. */
  private static final RedisScript TAKE_TRY = new RedisScript("""
      local n = tonumber(redis.call('get', KEYS[1]) or '0')
      if n >= tonumber(ARGV[2]) then
        local ttl = redis.call('ttl', KEYS[1])
        if ttl < 0 then
          redis.call('expire', KEYS[1], ARGV[1])
          ttl = tonumber(ARGV[1])
        end
        return -math.max(ttl, 1)
      end
      n = redis.call('incr', KEYS[1])
      if n == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
      return n""");

  private final RedisAPI redis;
  private final int maxFailures;
  private final int windowSeconds;
  private final String keyPrefix;

  public LoginThrottle(RedisAPI redis, int maxFailures, int windowSeconds) {
    this(redis, "wxmp:admin-login-failures:", maxFailures, windowSeconds);
  }

  /** A throttle of its own: {@code keyPrefix} separates, say, operator logins from merchant logins. */
  public LoginThrottle(RedisAPI redis, String keyPrefix, int maxFailures, int windowSeconds) {
    this.redis = redis;
    this.keyPrefix = keyPrefix;
    this.maxFailures = maxFailures;
    this.windowSeconds = windowSeconds;
  }

  /** Counts one login try; fails with 429 when the username has no tries left in the window. */
  public Future<Void> takeTry(String username) {
    return Redis.bounded(TAKE_TRY.run(redis, List.of(key(username)),
            List.of(Integer.toString(windowSeconds), Integer.toString(maxFailures))))
        .compose((Response n) -> n.toLong() < 0
            ? Future.failedFuture(ApiException.rateLimited((int) -n.toLong()))
            : Future.succeededFuture());
  }

  /** A successful login: the tries counted so far no longer count. */
  public Future<Void> reset(String username) {
    return Redis.bounded(redis.del(List.of(key(username)))).mapEmpty();
  }

  private String key(String username) {
    return keyPrefix + username.toLowerCase(Locale.ROOT);
  }
}

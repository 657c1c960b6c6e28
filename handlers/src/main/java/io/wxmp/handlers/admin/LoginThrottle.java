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
 * Counts failed admin logins per username in Redis (shared by every server instance). After {@code maxFailures}
 * within the window, further attempts get 429 with {@code Retry-After} until the window ends, right password or not.
 */
public final class LoginThrottle {
  /** INCR and start the window on the first failure, in one round trip. */
  private static final RedisScript RECORD_FAILURE = new RedisScript("""
      local n = redis.call('incr', KEYS[1])
      if n == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
      return n""");

  private final RedisAPI redis;
  private final int maxFailures;
  private final int windowSeconds;

  public LoginThrottle(RedisAPI redis, int maxFailures, int windowSeconds) {
    this.redis = redis;
    this.maxFailures = maxFailures;
    this.windowSeconds = windowSeconds;
  }

  /** Fails with 429 when the username is locked out. */
  public Future<Void> check(String username) {
    String key = key(username);
    return Redis.bounded(redis.get(key)).compose(count -> {
      if (count == null || count.toInteger() < maxFailures) {
        return Future.succeededFuture();
      }
      return Redis.bounded(redis.ttl(key)).compose((Response ttl) ->
          Future.failedFuture(ApiException.rateLimited(Math.max(1, ttl == null ? windowSeconds : ttl.toInteger()))));
    });
  }

  public Future<Void> recordFailure(String username) {
    return Redis.bounded(RECORD_FAILURE.run(redis, List.of(key(username)), List.of(Integer.toString(windowSeconds))))
        .mapEmpty();
  }

  public Future<Void> reset(String username) {
    return Redis.bounded(redis.del(List.of(key(username)))).mapEmpty();
  }

  private static String key(String username) {
    return "wxmp:admin-login-failures:" + username.toLowerCase(Locale.ROOT);
  }
}

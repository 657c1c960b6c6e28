package io.wxmp.handlers.common;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A lease lock in Redis, shared by every server instance: {@code SET key token NX PX lease}; only the holder's
 * token releases it (compare-and-delete in one script), and a holder that dies frees it when the lease runs out.
 */
public final class RedisLease {
  private static final RedisScript RELEASE = new RedisScript(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end");

  private RedisLease() {}

  /** The holder's token, or null when someone else holds the lease. */
  public static Future<String> tryAcquire(RedisAPI redis, String key, long leaseMs) {
    String token = UUID.randomUUID().toString();
    return Redis.bounded(redis.set(List.of(key, token, "NX", "PX", Long.toString(leaseMs))))
        .map(reply -> reply == null ? null : token);
  }

  public static Future<Void> release(RedisAPI redis, String key, String token) {
    return Redis.bounded(RELEASE.run(redis, List.of(key), List.of(token))).mapEmpty();
  }

  /** Runs {@code work} while holding the lease and releases it after; answers {@code whenBusy} if it is held. */
  public static <T> Future<T> withLease(RedisAPI redis, String key, long leaseMs, Supplier<Future<T>> work, T whenBusy) {
    return tryAcquire(redis, key, leaseMs).compose(token -> token == null
        ? Future.succeededFuture(whenBusy)
        : work.get().eventually(() -> release(redis, key, token)));
  }
}

package io.wxmp.handlers.common;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import me.chanjar.weixin.common.redis.WxRedisOps;

/**
 * WxJava's Redis port, on our Vert.x Redis client, so the WeChat access token lives in Redis once per appid and is
 * refreshed by one caller at a time across every server instance (WxJava takes {@link #getLock} around a refresh).
 * WxJava calls this from the "wechat" worker pool, where blocking on a future is allowed.
 */
public final class RedisWxOps implements WxRedisOps {
  private static final long CALL_TIMEOUT_MS = 2_000;

  private final RedisAPI redis;

  public RedisWxOps(RedisAPI redis) {
    this.redis = redis;
  }

  @Override
  public String getValue(String key) {
    Response r = await(redis.get(key));
    return r == null ? null : r.toString();
  }

  @Override
  public void setValue(String key, String value, int expire, TimeUnit unit) {
    if (expire <= 0) {
      await(redis.set(List.of(key, value)));
    } else {
      await(redis.set(List.of(key, value, "PX", Long.toString(unit.toMillis(expire)))));
    }
  }

  @Override
  public Long getExpire(String key) {
    Response r = await(redis.ttl(key));
    return r == null ? null : r.toLong();
  }

  @Override
  public void expire(String key, int expire, TimeUnit unit) {
    await(redis.pexpire(List.of(key, Long.toString(unit.toMillis(expire)))));
  }

  @Override
  public Lock getLock(String key) {
    return new RedisLock(key);
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for Redis", e);
    } catch (Exception e) {
      // named as Redis, so a login whose token store failed does not say "WeChat did not answer"
      ApiException inner = Upstream.innerApiException(e);
      throw inner != null ? inner : ApiException.upstreamUnavailable("Redis", e);
    }
  }

  /** {@link RedisLease} behind the blocking {@link Lock} interface WxJava takes. */
  private final class RedisLock implements Lock {
    private static final long LEASE_MS = 10_000;
    private final String key;
    private final ThreadLocal<String> holder = new ThreadLocal<>();

    RedisLock(String key) {
      this.key = key;
    }

    @Override
    public boolean tryLock() {
      String token = await(RedisLease.tryAcquire(redis, key, LEASE_MS));
      if (token != null) {
        holder.set(token);
        return true;
      }
      return false;
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
      long deadline = System.nanoTime() + unit.toNanos(time);
      while (true) {
        if (tryLock()) {
          return true;
        }
        if (System.nanoTime() >= deadline) {
          return false;
        }
        TimeUnit.MILLISECONDS.sleep(Math.min(20, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))));
      }
    }

    @Override
    public void lock() {
      try {
        lockInterruptibly();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
      while (!tryLock(1, TimeUnit.SECONDS)) {
        // keep trying: a holder that died releases the lease when it expires
      }
    }

    @Override
    public void unlock() {
      String token = holder.get();
      if (token != null) {
        holder.remove();
        await(RedisLease.release(redis, key, token));
      }
    }

    @Override
    public Condition newCondition() {
      throw new UnsupportedOperationException();
    }
  }
}

package io.wxmp.handlers.common;

import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.AsyncProxyManager;
import io.github.bucket4j.distributed.proxy.ClientSideConfig;
import io.github.bucket4j.distributed.proxy.generic.compare_and_swap.AbstractCompareAndSwapBasedProxyManager;
import io.github.bucket4j.distributed.proxy.generic.compare_and_swap.AsyncCompareAndSwapOperation;
import io.github.bucket4j.distributed.proxy.generic.compare_and_swap.CompareAndSwapOperation;
import io.github.bucket4j.distributed.remote.RemoteBucketState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.RedisAPI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A token bucket per key (a user, an account), shared by every server instance through Redis: Bucket4j's algorithm
 * and its compare-and-swap backend protocol, over our own {@link RedisAPI} (Bucket4j ships no Vert.x backend to Maven
 * Central). A state is read with GET and written back with a compare-and-set script, retried on a lost race; a bucket
 * left alone expires once it would have refilled. {@link #acquire} fails with 429 {@code rate_limited} and a
 * {@code Retry-After} when the bucket is empty.
 *
 * <p>One round trip where the last one was ours: the state this server last wrote for a key is remembered, and the
 * first try of the next operation on that key compares-and-sets against it without reading it first. Bucket4j's own
 * protocol keeps it right: the compare-and-set succeeds only while Redis still holds exactly those bytes, and when
 * another server (or an expiry, or a concurrent request) changed them it fails and Bucket4j retries from a real GET.
 * A refusal writes nothing, so no compare-and-set would catch a stale guess there: a refusal from a guess is asked
 * again from Redis (a reset or a refund by another server, a bucket that expired, all say yes then).
 */
public final class RateLimiter {
  /** {@code capacity} requests, refilled smoothly over {@code period}. */
  public record Limit(long capacity, Duration period) {}

  private static final RedisScript SET_NX_PX = new RedisScript(
      "if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 else return 0 end");
  private static final RedisScript COMPARE_AND_SET_PX = new RedisScript("""
      if redis.call('get', KEYS[1]) == ARGV[1] then
        redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
        return 1
      end
      return 0""");

  private final Vertx vertx;
  private final String prefix;
  private final BucketConfiguration configuration;
  private final AsyncProxyManager<String> buckets;
  /** The same buckets without guesses: a refusal is confirmed here. */
  private final AsyncProxyManager<String> read;
  /** The state this server last wrote per key: a guess that saves the GET, checked by the compare-and-set. */
  private final com.github.benmanes.caffeine.cache.Cache<String, byte[]> lastWritten =
      com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(LAST_WRITTEN_KEPT)
          .expireAfterWrite(Duration.ofMinutes(1)).build();
  static final int LAST_WRITTEN_KEPT = 50_000;

  /**
   * {@code name} keeps this limiter's buckets apart from other limiters' ({@code wxmp:rate:<name>:<limit>:<key>}).
   * The limit is part of the key: a bucket in Redis keeps the configuration it was made with, so without it a changed
   * setting (or two servers configured differently) would go on using the old capacity until the bucket expired.
   */
  public RateLimiter(Vertx vertx, RedisAPI redis, String name, Limit limit) {
    this.vertx = vertx;
    this.prefix = "wxmp:rate:" + name + ":" + limit.capacity() + "/" + limit.period().toMillis() + "ms:";
    this.configuration = BucketConfiguration.builder()
        .addLimit(l -> l.capacity(limit.capacity()).refillGreedy(limit.capacity(), limit.period()))
        .build();
    ClientSideConfig config = ClientSideConfig.getDefault()
        .withExpirationAfterWriteStrategy(
            ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(5)))
        // a burst on one key (20 guesses at one account at once) loses the compare-and-set race up to once per
        // contender; past the retries the caller gets 503, so leave room for a burst
        .withMaxRetries(100);
    this.buckets = new RedisBuckets(redis, config, lastWritten).asAsync();
    this.read = new RedisBuckets(redis, config, null).asAsync();
  }

  /** Takes one token for {@code key}; fails with 429 (Retry-After in whole seconds, at least 1) when there is none. */
  public Future<Void> acquire(String key) {
    boolean guessed = lastWritten.getIfPresent(prefix + key) != null;
    CompletableFuture<ConsumptionProbe> probe = bucket(buckets, key).tryConsumeAndReturnRemaining(1);
    return Redis.bounded(Future.fromCompletionStage(probe, vertx.getOrCreateContext())).compose(p -> {
      if (p.isConsumed() || !guessed) {
        return Future.succeededFuture(p);
      }
      lastWritten.invalidate(prefix + key);
      return Redis.bounded(Future.fromCompletionStage(bucket(read, key).tryConsumeAndReturnRemaining(1),
          vertx.getOrCreateContext()));
    }).compose(p -> {
      if (p.isConsumed()) {
        return Future.succeededFuture();
      }
      long seconds = Math.max(1, (p.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L);
      return Future.failedFuture(ApiException.rateLimited((int) Math.min(Integer.MAX_VALUE, seconds)));
    });
  }

  /** Gives back the token an {@link #acquire} took (the try turned out not to count: a login that succeeded). */
  public Future<Void> refund(String key) {
    return Redis.bounded(Future.fromCompletionStage(bucket(buckets, key).addTokens(1), vertx.getOrCreateContext()));
  }

  /** Forgets {@code key}'s bucket: its next acquire finds a full one. */
  public Future<Void> reset(String key) {
    return Redis.bounded(Future.fromCompletionStage(buckets.removeProxy(prefix + key), vertx.getOrCreateContext()));
  }

  /**
   * A handler that lets a request through only while {@code key} of it has tokens left (429 with Retry-After
   * otherwise): put it in front of a route that costs an upstream call.
   */
  public io.vertx.core.Handler<io.vertx.ext.web.RoutingContext> handler(
      java.util.function.Function<io.vertx.ext.web.RoutingContext, String> key) {
    return ctx -> acquire(key.apply(ctx)).onComplete(done -> {
      if (done.succeeded()) {
        ctx.next();
      } else {
        ctx.fail(done.cause());
      }
    });
  }

  private AsyncBucketProxy bucket(AsyncProxyManager<String> manager, String key) {
    return manager.getProxy(prefix + key, () -> CompletableFuture.completedFuture(configuration));
  }

  /** Bucket4j's compare-and-swap backend on vertx-redis-client; states travel base64-encoded. */
  private static final class RedisBuckets extends AbstractCompareAndSwapBasedProxyManager<String> {
    private final RedisAPI redis;
    private final ExpirationAfterWriteStrategy expiration;
    private final com.github.benmanes.caffeine.cache.Cache<String, byte[]> lastWritten;

    RedisBuckets(RedisAPI redis, ClientSideConfig config,
        com.github.benmanes.caffeine.cache.Cache<String, byte[]> lastWritten) {
      super(config);
      this.redis = redis;
      this.expiration = config.getExpirationAfterWriteStrategy().orElse(ExpirationAfterWriteStrategy.none());
      this.lastWritten = lastWritten;
    }

    @Override
    protected CompareAndSwapOperation beginCompareAndSwapOperation(String key) {
      throw new UnsupportedOperationException("only the asynchronous API: an event loop never blocks");
    }

    @Override
    protected AsyncCompareAndSwapOperation beginAsyncCompareAndSwapOperation(String key) {
      // Bucket4j uses one operation for an acquire and its retries: only the first try may start from the guess
      return new AsyncCompareAndSwapOperation() {
        private boolean guessed;

        @Override
        public CompletableFuture<Optional<byte[]>> getStateData(Optional<Long> timeoutNanos) {
          byte[] guess = guessed || lastWritten == null ? null : lastWritten.getIfPresent(key);
          guessed = true;
          if (guess != null) {
            return CompletableFuture.completedFuture(Optional.of(guess));
          }
          return redis.get(key).map(r -> r == null ? Optional.<byte[]>empty()
              : Optional.of(Base64.getDecoder().decode(r.toString()))).toCompletionStage().toCompletableFuture();
        }

        @Override
        public CompletableFuture<Boolean> compareAndSwap(byte[] originalData, byte[] newData, RemoteBucketState newState,
            Optional<Long> timeoutNanos) {
          long ttlMs = Math.max(1000, expiration.calculateTimeToLiveMillis(newState, currentTimeNanos()));
          String encoded = Base64.getEncoder().encodeToString(newData);
          List<String> args = new ArrayList<>();
          RedisScript script;
          if (originalData == null) {
            script = SET_NX_PX;
            args.add(encoded);
          } else {
            script = COMPARE_AND_SET_PX;
            args.add(Base64.getEncoder().encodeToString(originalData));
            args.add(encoded);
          }
          args.add(Long.toString(ttlMs));
          return script.run(redis, List.of(key), args).map(r -> {
            boolean swapped = r != null && r.toInteger() == 1;
            if (lastWritten == null) {
              return swapped;
            }
            if (swapped) {
              lastWritten.put(key, newData);
            } else {
              lastWritten.invalidate(key);
            }
            return swapped;
          }).toCompletionStage().toCompletableFuture();
        }
      };
    }

    @Override
    protected CompletableFuture<Void> removeAsync(String key) {
      if (lastWritten != null) {
        lastWritten.invalidate(key);
      }
      return redis.del(List.of(key)).<Void>mapEmpty().toCompletionStage().toCompletableFuture();
    }

    @Override
    public void removeProxy(String key) {
      throw new UnsupportedOperationException("only the asynchronous API: an event loop never blocks");
    }

    @Override
    public boolean isAsyncModeSupported() {
      return true;
    }

    @Override
    public boolean isExpireAfterWriteSupported() {
      return true;
    }
  }
}

package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.RateLimiter;
import io.wxmp.server.testkit.TestStack;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shared token bucket seen from two servers on one Redis (two limiters with the same name and limit): each
 * remembers the state it last wrote and tries its compare-and-set from that without a GET, so these check that the
 * limit still holds exactly when the other server, a reset or an expiry changed the state behind its back.
 */
class RateLimiterTest {
  static TestStack stack;
  static Redis client;
  static RedisAPI redis;
  static final RateLimiter.Limit FIVE_PER_HOUR = new RateLimiter.Limit(5, Duration.ofHours(1));

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    client = stack.redisClient();
    redis = RedisAPI.api(client);
  }

  @AfterAll
  static void stop() {
    client.close();
  }

  private static RateLimiter server(String name) {
    return new RateLimiter(stack.clientVertx, redis, name, FIVE_PER_HOUR);
  }

  private static boolean acquire(RateLimiter limiter, String key) throws Exception {
    try {
      limiter.acquire(key).await(10, TimeUnit.SECONDS);
      return true;
    } catch (ApiException e) {
      assertThat(e.status()).isEqualTo(429);
      return false;
    }
  }

  @Test
  void twoServersTakingTurnsShareOneBucket() throws Exception {
    String name = "test-" + UUID.randomUUID();
    RateLimiter a = server(name);
    RateLimiter b = server(name);
    int passed = 0;
    for (int i = 0; i < 12; i++) {
      passed += acquire(i % 3 == 0 ? b : a, "user") ? 1 : 0;
    }
    assertThat(passed).isEqualTo(5);
  }

  @Test
  void concurrentAcquiresOnTwoServersTakeExactlyTheCapacity() throws Exception {
    String name = "test-" + UUID.randomUUID();
    RateLimiter a = server(name);
    RateLimiter b = server(name);
    // both remember a state first, so that every try below starts from a guess that most of them lose
    assertThat(acquire(a, "user")).isTrue();
    assertThat(acquire(b, "user")).isTrue();
    List<Future<Boolean>> tries = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      tries.add((i % 2 == 0 ? a : b).acquire("user").map(true).recover(failure ->
          failure instanceof ApiException e && e.status() == 429 ? Future.succeededFuture(false)
              : Future.failedFuture(failure)));
    }
    int passed = 0;
    for (Future<Boolean> t : tries) {
      passed += t.await(10, TimeUnit.SECONDS) ? 1 : 0;
    }
    assertThat(passed).isEqualTo(3);
  }

  @Test
  void aStateGoneFromRedisIsNotTakenFromMemory() throws Exception {
    String name = "test-" + UUID.randomUUID();
    RateLimiter a = server(name);
    for (int i = 0; i < 5; i++) {
      assertThat(acquire(a, "user")).isTrue();
    }
    assertThat(acquire(a, "user")).isFalse();
    // the bucket expired (or was deleted by hand): a full one, not the empty one this server remembers
    String key = "wxmp:rate:" + name + ":5/3600000ms:user";
    assertThat(redis.del(List.of(key)).await(10, TimeUnit.SECONDS).toInteger()).isEqualTo(1);
    assertThat(acquire(a, "user")).isTrue();

    // and one reset by another server is full there and here
    RateLimiter b = server(name);
    for (int i = 0; i < 4; i++) {
      assertThat(acquire(a, "user")).isTrue();
    }
    assertThat(acquire(a, "user")).isFalse();
    b.reset("user").await(10, TimeUnit.SECONDS);
    assertThat(acquire(a, "user")).isTrue();
  }

  @Test
  void aRefundOnOneServerIsSeenOnTheOther() throws Exception {
    String name = "test-" + UUID.randomUUID();
    RateLimiter a = server(name);
    RateLimiter b = server(name);
    for (int i = 0; i < 5; i++) {
      assertThat(acquire(a, "user")).isTrue();
    }
    assertThat(acquire(a, "user")).isFalse();
    b.refund("user").await(10, TimeUnit.SECONDS);
    assertThat(acquire(a, "user")).isTrue();
    assertThat(acquire(a, "user")).isFalse();
  }
}

package io.wxmp.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.ProfileCache;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /me} answers from its Redis cache ({@link ProfileCache}) once it has read PostgreSQL, byte for byte what
 * PostgreSQL's answer is, and a reader that read PostgreSQL before a write committed can never store its stale answer
 * over the write. The writers themselves are tested where they are (PATCH /me here; the phone in AuthTest, the
 * avatar in AvatarTest, quiz points in QuizTest, memberships and refunds in PayTest, erasure in PrivacyTest): each
 * reads /me before and after its write.
 */
class ProfileCacheTest {
  static TestStack stack;
  static Redis client;
  static RedisAPI redis;
  static ProfileCache cache;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    client = stack.redisClient();
    redis = RedisAPI.api(client);
    cache = new ProfileCache(redis);
  }

  @AfterAll
  static void stop() {
    client.close();
  }

  static <T> T await(Future<T> f) {
    try {
      return f.await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static long userId(String token) {
    return Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id"));
  }

  private static String field(long userId, String field) {
    Response r = await(redis.hget(ProfileCache.key(userId), field));
    return r == null ? null : r.toString();
  }

  @Test
  void theSecondAnswerComesFromTheCacheByteForByte() {
    JsonObject wx = stack.newWeChatUser();
    Reply login = stack.api.post("/api/v1/auth/login", null, new JsonObject().put("code", wx.getString("code")));
    String token = login.json().getString("token");
    long user = Long.parseLong(login.json().getJsonObject("user").getString("id"));
    assertThat(field(user, "d")).isNull();

    Reply fromPostgres = stack.api.get("/api/v1/me", token);
    assertThat(fromPostgres.status()).isEqualTo(200);
    String cached = field(user, "d");
    assertThat(cached).isEqualTo(fromPostgres.raw().toString());
    Reply fromCache = stack.api.get("/api/v1/me", token);
    assertThat(fromCache.status()).isEqualTo(200);
    assertThat(fromCache.raw().toString()).isEqualTo(fromPostgres.raw().toString());
    assertThat(fromCache.headers().get("Content-Type")).isEqualTo(fromPostgres.headers().get("Content-Type"));
    // nothing secret in Redis: no token, no openid
    assertThat(cached).doesNotContain(token).doesNotContain(wx.getString("openid"));
    long ttl = await(redis.ttl(ProfileCache.key(user))).toLong();
    assertThat(ttl).isBetween(1L, ProfileCache.TTL_SECONDS);

    // a token that is not a session gets no cached answer
    assertThat(stack.api.get("/api/v1/me", "x".repeat(43)).status()).isEqualTo(401);
    // the server now knows whose the token is and reads the session with the answer: a revoked token is still 401
    assertThat(stack.api.get("/api/v1/me", token).status()).isEqualTo(200);
    assertThat(stack.api.post("/api/v1/auth/logout", token, null).status()).isEqualTo(204);
    Reply revoked = stack.api.get("/api/v1/me", token);
    assertThat(revoked.status()).isEqualTo(401);
    assertThat(revoked.errorCode()).isEqualTo("unauthorized");
  }

  @Test
  void patchMeShowsAtOnce() {
    String token = stack.newUserToken();
    assertThat(stack.api.get("/api/v1/me", token).json().getString("nickname")).isNull();
    stack.api.get("/api/v1/me", token); // cached
    assertThat(stack.api.patch("/api/v1/me", token, new JsonObject().put("nickname", "Cached Chen")).status())
        .isEqualTo(200);
    assertThat(stack.api.get("/api/v1/me", token).json().getString("nickname")).isEqualTo("Cached Chen");
    assertThat(stack.api.patch("/api/v1/me", token, new JsonObject().put("personalised", false)).status())
        .isEqualTo(200);
    JsonObject me = stack.api.get("/api/v1/me", token).json();
    assertThat(me.getBoolean("personalised")).isFalse();
    assertThat(me.getString("nickname")).isEqualTo("Cached Chen");
    assertThat(stack.api.patch("/api/v1/me", token, new JsonObject().put("avatarUrl", "https://example.com/a.png"))
        .status()).isEqualTo(200);
    assertThat(stack.api.get("/api/v1/me", token).json().getString("avatarUrl")).isEqualTo("https://example.com/a.png");
  }

  /**
   * The race: a reader takes the generation, reads PostgreSQL (the old value), a write commits and invalidates, and
   * only then does the reader try to store: it is refused, and the next read misses and stores the new value.
   */
  @Test
  void aStaleReaderCannotStoreOverANewerGeneration() {
    long user = userId(stack.newUserToken());
    await(cache.invalidate(user));
    ProfileCache.Lookup reader = await(cache.get(user));
    assertThat(reader.answer()).isNull();
    assertThat(reader.generation()).isNotNull();

    await(cache.invalidate(user)); // a writer committed meanwhile
    assertThat(await(cache.put(user, reader.generation(), "{\"stale\":true}", null))).isFalse();
    assertThat(field(user, "d")).isNull();

    ProfileCache.Lookup next = await(cache.get(user));
    assertThat(next.answer()).isNull();
    assertThat(next.generation()).isNotEqualTo(reader.generation());
    assertThat(await(cache.put(user, next.generation(), "{\"fresh\":true}", null))).isTrue();
    assertThat(await(cache.get(user)).answer()).isEqualTo("{\"fresh\":true}");
    // a reader of the same generation that comes late stores nothing newer than what is there, and a writer's
    // invalidation drops the answer at once
    await(cache.invalidate(user));
    assertThat(await(cache.get(user)).answer()).isNull();
  }

  /**
   * A payment's settlement holds the cache off from before its commit until after its invalidation: in between, an
   * answer in the cache is not served and a reader stores nothing (PostgreSQL answers, so a buyer who sees the order
   * paid never reads the old membership from the cache); two writes in flight hold it until both have ended.
   */
  @Test
  void aWriteInFlightHoldsTheCacheOffUntilItEnds() {
    long user = userId(stack.newUserToken());
    ProfileCache.Lookup first = await(cache.get(user));
    assertThat(await(cache.put(user, first.generation(), "{\"old\":true}", null))).isTrue();
    assertThat(await(cache.get(user)).answer()).isEqualTo("{\"old\":true}");

    await(cache.beginWrite(user));
    await(cache.beginWrite(user));
    ProfileCache.Lookup during = await(cache.get(user));
    assertThat(during.answer()).isNull();
    assertThat(during.generation()).as("nothing to store at while a write is in flight").isNull();
    // a reader that took its generation before the write began cannot store either
    assertThat(await(cache.put(user, first.generation(), "{\"old\":true}", null))).isFalse();
    String generation = field(user, "g");
    assertThat(await(cache.put(user, generation, "{\"between\":true}", null))).isFalse();
    assertThat(field(user, "d")).isNull();

    await(cache.endWrite(user));
    assertThat(await(cache.get(user)).generation()).as("one write still in flight").isNull();
    await(cache.endWrite(user));
    ProfileCache.Lookup after = await(cache.get(user));
    assertThat(after.answer()).isNull();
    assertThat(after.generation()).isNotNull();
    assertThat(await(cache.put(user, after.generation(), "{\"new\":true}", null))).isTrue();
    assertThat(await(cache.get(user)).answer()).isEqualTo("{\"new\":true}");
    assertThat(field(user, "w")).isNull();
  }

  /** A writer that began and never ended (it crashed) holds the cache off only until its hold has passed. */
  @Test
  void aWriterThatNeverEndedHoldsTheCacheOffOnlyForItsHold() {
    long user = userId(stack.newUserToken());
    await(cache.beginWrite(user));
    assertThat(await(cache.get(user)).generation()).isNull();
    await(redis.hset(List.of(ProfileCache.key(user), "b", Long.toString(System.currentTimeMillis() - 1))));
    ProfileCache.Lookup after = await(cache.get(user));
    assertThat(after.generation()).isNotNull();
    assertThat(await(cache.put(user, after.generation(), "{\"x\":1}", null))).isTrue();
    // the next write's count starts again from its own, not from the crashed writer's
    await(cache.beginWrite(user));
    await(cache.endWrite(user));
    assertThat(field(user, "w")).isNull();
  }

  /**
   * The hash went away (expired, evicted, flushed) while a reader was reading PostgreSQL and a writer committed: the
   * generation starts again at a random number, not at one the reader could have seen, so its store is refused.
   */
  @Test
  void aGenerationThatStartsAfreshIsNotOneAStaleReaderSaw() {
    long user = userId(stack.newUserToken());
    for (int i = 0; i < 20; i++) {
      await(redis.del(List.of(ProfileCache.key(user))));
      ProfileCache.Lookup reader = await(cache.get(user)); // the generation starts here
      assertThat(reader.generation()).isNotNull();
      await(redis.del(List.of(ProfileCache.key(user))));
      await(cache.invalidate(user));
      assertThat(await(cache.put(user, reader.generation(), "{\"stale\":true}", null))).isFalse();

      // and when nothing at all is left (the writer's invalidation was lost too), nothing is stored either
      await(redis.del(List.of(ProfileCache.key(user))));
      assertThat(await(cache.put(user, reader.generation(), "{\"stale\":true}", null))).isFalse();
      assertThat(field(user, "d")).isNull();
    }
  }

  /** A membership that runs out while its answer is cached: /me shows none from then on, as PostgreSQL does. */
  @Test
  void aMembershipThatRunsOutIsNotShownFromTheCache() {
    String token = stack.newUserToken();
    long user = userId(token);
    long merchant = stack.newMerchant().id();
    OffsetDateTime until = OffsetDateTime.now().plusSeconds(2);
    stack.sql("INSERT INTO memberships (user_id, merchant_id, member_until) VALUES ($1, $2, $3)",
        Tuple.of(user, merchant, until));
    stack.profileChanged(user);
    assertThat(stack.api.get("/api/v1/me", token).json().getString("memberUntil")).isNotNull();
    assertThat(field(user, "d")).contains("memberUntil\":\"");
    TestStack.eventually("memberUntil gone once it passed", 10_000,
        () -> stack.api.get("/api/v1/me", token).json().getValue("memberUntil") == null);
    assertThat(OffsetDateTime.now()).isAfter(until);
  }
}

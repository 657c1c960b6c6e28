package io.wxmp.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** WeChat users: login through WxJava against the sandbox, tokens, phone, profile and bad input. */
class AuthTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  private Reply login(String code) {
    return stack.api.post("/api/v1/auth/login", null, new JsonObject().put("code", code));
  }

  @Test
  void loginThenMe() {
    JsonObject wx = stack.newWeChatUser();
    Reply login = login(wx.getString("code"));
    assertThat(login.status()).isEqualTo(200);
    JsonObject body = login.json();
    assertThat(body.getString("token")).hasSizeGreaterThanOrEqualTo(40);
    assertThat(body.getLong("expiresIn")).isPositive();
    assertThat(body.getJsonObject("user").getBoolean("isNew")).isTrue();
    assertThat(body.getJsonObject("user").getBoolean("phoneBound")).isFalse();
    assertThat(body.getJsonObject("user").getValue("id")).isInstanceOf(String.class);
    assertThat(body.encode()).doesNotContain("session_key").doesNotContain("sessionKey");

    Reply me = stack.api.get("/api/v1/me", body.getString("token"));
    assertThat(me.status()).isEqualTo(200);
    assertThat(me.json().getString("id")).isEqualTo(body.getJsonObject("user").getString("id"));
    assertThat(me.json().getLong("points")).isZero();
    assertThat(me.json().containsKey("memberUntil")).isTrue();

    Reply again = login(stack.codeFor(wx.getString("openid")));
    assertThat(again.json().getJsonObject("user").getBoolean("isNew")).isFalse();
    assertThat(again.json().getJsonObject("user").getString("id")).isEqualTo(me.json().getString("id"));
    assertThat(again.json().getString("token")).isNotEqualTo(body.getString("token"));
  }

  @Test
  void invalidAndReusedCodesAreRejected() {
    Reply invalid = login("no-such-code");
    assertThat(invalid.status()).isEqualTo(401);
    assertThat(invalid.errorCode()).isEqualTo("invalid_wx_code");

    String code = stack.newWeChatUser().getString("code");
    assertThat(login(code).status()).isEqualTo(200);
    Reply reused = login(code);
    assertThat(reused.status()).isEqualTo(401);
    assertThat(reused.errorCode()).isEqualTo("invalid_wx_code");
  }

  @Test
  void logoutKillsTheToken() {
    String token = stack.newUserToken();
    assertThat(stack.api.get("/api/v1/me", token).status()).isEqualTo(200);
    assertThat(stack.api.post("/api/v1/auth/logout", token, null).status()).isEqualTo(204);
    Reply after = stack.api.get("/api/v1/me", token);
    assertThat(after.status()).isEqualTo(401);
    assertThat(after.errorCode()).isEqualTo("unauthorized");
  }

  @Test
  void madeUpMissingAndExpiredTokensGet401() throws Exception {
    assertThat(stack.api.get("/api/v1/me", "made-up-token-made-up-token-made-up").status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/me", null).errorCode()).isEqualTo("unauthorized");

    String token = stack.newUserToken();
    // Expire the stored session the way Redis would at the end of its TTL.
    String key = "wxmp:session:user:" + HexFormat.of().formatHex(
        MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    io.vertx.redis.client.Redis redis = stack.redisClient();
    try {
      assertThat(io.vertx.redis.client.RedisAPI.api(redis).pexpire(List.of(key, "1"))
          .await(5, TimeUnit.SECONDS).toInteger()).isEqualTo(1);
    } finally {
      redis.close();
    }
    TestStack.eventually("token expiry", 5_000, () -> stack.api.get("/api/v1/me", token).status() == 401);
  }

  @Test
  void phoneBinding() {
    JsonObject wx = stack.newWeChatUser();
    String token = login(wx.getString("code")).json().getString("token");
    Reply bad = stack.api.post("/api/v1/auth/phone", token, new JsonObject().put("code", "bogus"));
    assertThat(bad.status()).isEqualTo(401);
    assertThat(bad.errorCode()).isEqualTo("invalid_wx_code");
    assertThat(stack.api.get("/api/v1/me", token).json().getBoolean("phoneBound")).isFalse(); // now cached

    Reply ok = stack.api.post("/api/v1/auth/phone", token, new JsonObject().put("code", wx.getString("phoneCode")));
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.json().getBoolean("phoneBound")).isTrue();
    assertThat(ok.json().getString("phoneMasked")).matches("\\d{3}\\*{4}\\d{4}");
    assertThat(stack.api.get("/api/v1/me", token).json().getBoolean("phoneBound")).isTrue();
  }

  @Test
  void riskyNicknameIsRejectedAndChangesNothing() {
    String token = stack.newUserToken();
    Reply ok = stack.api.patch("/api/v1/me", token, new JsonObject().put("nickname", "Reader Li"));
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.json().getString("nickname")).isEqualTo("Reader Li");

    Reply risky = stack.api.patch("/api/v1/me", token, new JsonObject().put("nickname", "best casino deals"));
    assertThat(risky.status()).isEqualTo(422);
    assertThat(risky.errorCode()).isEqualTo("content_rejected");
    assertThat(stack.api.get("/api/v1/me", token).json().getString("nickname")).isEqualTo("Reader Li");
  }

  @Test
  void aPostWithAMethodOverrideIsAPatch() {
    // wx.request cannot send PATCH; the mini-program sends POST + X-HTTP-Method-Override: PATCH.
    String token = stack.newUserToken();
    MultiMap patch = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json")
        .add("X-HTTP-Method-Override", "PATCH");
    Reply ok = stack.api.postRaw("/api/v1/me", token, new JsonObject().put("nickname", "Reader Wang").toBuffer(), patch);
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.json().getString("nickname")).isEqualTo("Reader Wang");
    assertThat(stack.api.get("/api/v1/me", token).json().getString("nickname")).isEqualTo("Reader Wang");

    Reply risky = stack.api.postRaw("/api/v1/me", token, new JsonObject().put("nickname", "casino").toBuffer(), patch);
    assertThat(risky.status()).isEqualTo(422);
    assertThat(risky.errorCode()).isEqualTo("content_rejected");
  }

  @Test
  void badInputGets4xxWithTheErrorBody() {
    String token = stack.newUserToken();
    MultiMap json = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json");

    Reply malformed = stack.api.postRaw("/api/v1/auth/login", null, Buffer.buffer("{\"code\": "), json);
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.errorCode()).isEqualTo("bad_request");

    Reply notAnObject = stack.api.postRaw("/api/v1/auth/login", null, Buffer.buffer("[1,2]"), json);
    assertThat(notAnObject.status()).isEqualTo(400);

    Reply wrongType = stack.api.post("/api/v1/auth/login", null, new JsonObject().put("code", 42));
    assertThat(wrongType.status()).isEqualTo(400);
    assertThat(wrongType.json().getJsonObject("error").getJsonObject("fields").getString("code")).isNotBlank();

    Reply tooLong = stack.api.patch("/api/v1/me", token, new JsonObject().put("nickname", "x".repeat(33)));
    assertThat(tooLong.status()).isEqualTo(400);
    assertThat(tooLong.json().getJsonObject("error").getJsonObject("fields").containsKey("nickname")).isTrue();

    Reply badAvatar = stack.api.patch("/api/v1/me", token, new JsonObject().put("avatarUrl", "javascript:alert(1)"));
    assertThat(badAvatar.status()).isEqualTo(400);

    Buffer huge = Buffer.buffer("{\"code\":\"" + "a".repeat(70 * 1024) + "\"}");
    Reply oversized = stack.api.postRaw("/api/v1/auth/login", null, huge, json);
    assertThat(oversized.status()).isEqualTo(413);
    assertThat(oversized.errorCode()).isEqualTo("payload_too_large");

    Reply unknown = stack.api.get("/api/v1/no-such-route", token);
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.errorCode()).isEqualTo("not_found");
  }

  @Test
  void aNulCharacterInTheNicknameIs400AndChangesNothing() {
    String token = stack.newUserToken();
    assertThat(stack.api.patch("/api/v1/me", token, new JsonObject().put("nickname", "Reader Wu")).status())
        .isEqualTo(200);
    Reply nul = stack.api.patch("/api/v1/me", token, new JsonObject().put("nickname", "Reader\u0000Wu"));
    assertThat(nul.status()).as(nul.toString()).isEqualTo(400);
    assertThat(nul.json().getJsonObject("error").getJsonObject("fields").containsKey("nickname")).isTrue();
    assertThat(stack.api.get("/api/v1/me", token).json().getString("nickname")).isEqualTo("Reader Wu");
  }

  @Test
  void failedWeChatCallsLogNeitherTheAccessTokenNorTheCodes() {
    ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger)
        org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
        new ch.qos.logback.core.read.ListAppender<>();
    logs.start();
    root.addAppender(logs);
    try {
      assertThat(login("no-such-code-for-the-log").status()).isEqualTo(401);
      String token = stack.newUserToken();
      assertThat(stack.api.post("/api/v1/auth/phone", token, new JsonObject().put("code", "bogus-phone-code"))
          .status()).isEqualTo(401);
    } finally {
      root.detachAppender(logs);
    }
    List<String> lines = logs.list.stream().map(e -> e.getFormattedMessage()).toList();
    assertThat(lines).isNotEmpty(); // the access log saw the requests
    assertThat(lines).noneMatch(line -> line.contains("access_token"))
        .noneMatch(line -> line.contains("no-such-code-for-the-log"))
        .noneMatch(line -> line.contains("bogus-phone-code"));
  }

  @Test
  void fiftyConcurrentFirstLoginsMakeOneUser() {
    String openid = "o-concurrent-" + System.nanoTime();
    List<String> codes = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      codes.add(stack.codeFor(openid));
    }
    List<Future<Reply>> logins = codes.stream().map(code -> stack.api.sendAsync(HttpMethod.POST, "/api/v1/auth/login",
        null, new JsonObject().put("code", code).toBuffer(), null)).toList();
    List<Reply> replies = logins.stream().map(f -> {
      try {
        return f.await(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }).toList();
    assertThat(replies).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
    assertThat(replies.stream().filter(r -> r.json().getJsonObject("user").getBoolean("isNew")).count()).isEqualTo(1);
    assertThat(replies.stream().map(r -> r.json().getJsonObject("user").getString("id")).distinct().count()).isEqualTo(1);
    assertThat(stack.count("SELECT count(*) FROM users WHERE openid = $1", Tuple.of(openid))).isEqualTo(1);
  }

  @Test
  void wechatNotAnsweringGives503Quickly() {
    String code = stack.newWeChatUser().getString("code");
    stack.sandbox.post("/sandbox/faults", null, new JsonObject().put("delayMs", 8_000));
    try {
      long start = System.nanoTime();
      Reply r = login(code);
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.errorCode()).isEqualTo("upstream_unavailable");
      assertThat(tookMs).isLessThan(5_000);
    } finally {
      stack.sandbox.post("/sandbox/faults", null, new JsonObject().put("delayMs", 0));
    }
  }

  @Test
  void manyLoginsShareOneAccessToken() {
    for (int i = 0; i < 5; i++) {
      stack.newUserToken();
    }
    long issued = stack.sandbox.get("/sandbox/stats", null).json().getLong("tokensIssued");
    for (int i = 0; i < 5; i++) {
      stack.newUserToken();
    }
    assertThat(stack.sandbox.get("/sandbox/stats", null).json().getLong("tokensIssued")).isEqualTo(issued);
  }
}

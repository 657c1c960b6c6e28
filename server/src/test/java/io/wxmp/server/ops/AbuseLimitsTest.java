package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.wxmp.server.Settings;
import io.wxmp.server.WxmpServer;
import io.wxmp.server.testkit.Http;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Login lockouts that an attacker cannot turn against the owner, bounded password hashing, and rate limits on the
 * routes that call WeChat or WeChat Pay. A server of its own with small limits, behind a "proxy" (the tests are the
 * proxy: 127.0.0.1 is trusted, and X-Forwarded-For says which client each request is from).
 */
class AbuseLimitsTest {
  static TestStack stack;
  static WxmpServer server;
  static Http api;
  private static final AtomicInteger NEXT_ADDRESS = new AtomicInteger(1);

  @BeforeAll
  static void start() throws Exception {
    stack = TestStack.shared();
    int port = TestStack.freePort();
    Map<String, String> settings = new HashMap<>(stack.settings);
    settings.put("WXMP_HTTP_PORT", Integer.toString(port));
    settings.put("WXMP_PUBLIC_URL", "http://127.0.0.1:" + port);
    settings.put("WXMP_HTTP_TRUSTED_PROXIES", "127.0.0.1");
    settings.put("WXMP_LOGIN_TRIES_PER_ACCOUNT_ADDRESS", "5");
    settings.put("WXMP_LOGIN_TRIES_PER_ADDRESS", "8");
    settings.put("WXMP_LOGIN_TRIES_PER_ACCOUNT", "12");
    settings.put("WXMP_PASSWORD_WORKERS", "1");
    settings.put("WXMP_PASSWORD_QUEUE", "2");
    settings.put("WXMP_RATE_WX_LOGIN_PER_MIN", "5");
    settings.put("WXMP_RATE_ORDERS_PER_MIN", "3");
    settings.put("WXMP_RATE_PROFILE_PER_MIN", "3");
    server = WxmpServer.start(Settings.of(settings)).await(60, TimeUnit.SECONDS);
    api = new Http(io.vertx.ext.web.client.WebClient.create(stack.clientVertx), port);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close().await(30, TimeUnit.SECONDS);
    }
  }

  /** A client address of its own for each caller (TEST-NET-3, 203.0.113.0/24, and on into 198.51.100.0/24). */
  private static String newAddress() {
    int n = NEXT_ADDRESS.getAndIncrement();
    return (n < 255 ? "203.0.113." : "198.51.100.") + (n % 255);
  }

  private static MultiMap from(String address) {
    return MultiMap.caseInsensitiveMultiMap().add("X-Forwarded-For", address);
  }

  private static Reply adminLogin(String address, String username, String password, String cookie) {
    MultiMap headers = from(address);
    if (cookie != null) {
      headers.add("Cookie", cookie);
    }
    return api.send(HttpMethod.POST, "/api/v1/admin/login", null,
        new JsonObject().put("username", username).put("password", password).toBuffer(), headers);
  }

  private static void assertLimited(Reply r) {
    assertThat(r.status()).as(r.toString()).isEqualTo(429);
    assertThat(r.errorCode()).isEqualTo("rate_limited");
    assertThat(Integer.parseInt(r.headers().get("Retry-After"))).isPositive();
  }

  @Test
  void wrongPasswordsFromOneAddressDoNotLockTheOwnerOutElsewhere() {
    TestStack.Merchant m = stack.newMerchant();
    String owner = m.prefix() + "-owner";
    String attacker = newAddress();
    for (int i = 0; i < 5; i++) {
      assertThat(adminLogin(attacker, owner, "guess-" + i, null).status()).isEqualTo(401);
    }
    assertLimited(adminLogin(attacker, owner, "guess-again", null));
    // the attacker's address keeps guessing nothing, not even with the right password
    assertLimited(adminLogin(attacker, owner, TestStack.PASSWORD, null));
    // the owner, from their own address, logs in at once
    Reply ownerLogin = adminLogin(newAddress(), owner, TestStack.PASSWORD, null);
    assertThat(ownerLogin.status()).as(ownerLogin.toString()).isEqualTo(200);
  }

  @Test
  void aKnownBrowserLogsInWhileTheAccountIsGuessedFromEverywhere() {
    TestStack.Merchant m = stack.newMerchant();
    String owner = m.prefix() + "-owner";
    Reply first = adminLogin(newAddress(), owner, TestStack.PASSWORD, null);
    assertThat(first.status()).isEqualTo(200);
    String setCookie = first.headers().getAll("Set-Cookie").stream()
        .filter(c -> c.startsWith("wxmp_merchant_device=")).findFirst().orElseThrow();
    assertThat(setCookie).containsIgnoringCase("HttpOnly").contains("SameSite=Strict").contains("Path=/api/v1/admin/login");
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));

    // a botnet: two guesses from each of many addresses, until the account's budget for unknown clients is spent
    int limited = 0;
    for (int i = 0; i < 10; i++) {
      String bot = newAddress();
      for (int j = 0; j < 2; j++) {
        if (adminLogin(bot, owner, "bot-" + i + "-" + j, null).status() == 429) {
          limited++;
        }
      }
    }
    assertThat(limited).as("guesses refused once the account's 12 tries from unknown clients are spent").isPositive();
    assertLimited(adminLogin(newAddress(), owner, TestStack.PASSWORD, null));
    // the browser the owner used before is not an unknown client, wherever it is now
    Reply known = adminLogin(newAddress(), owner, TestStack.PASSWORD, cookie);
    assertThat(known.status()).as(known.toString()).isEqualTo(200);
    // a made-up device cookie is just an unknown client
    assertLimited(adminLogin(newAddress(), owner, TestStack.PASSWORD, "wxmp_merchant_device=" + "ab".repeat(32)));
  }

  @Test
  void madeUpUsernamesFromOneAddressAreLimitedToo() {
    String sprayer = newAddress();
    for (int i = 0; i < 8; i++) {
      assertThat(adminLogin(sprayer, "nobody-" + UUID.randomUUID(), "guess", null).status()).isEqualTo(401);
    }
    assertLimited(adminLogin(sprayer, "nobody-" + UUID.randomUUID(), "guess", null));
    TestStack.Merchant m = stack.newMerchant();
    assertLimited(adminLogin(sprayer, m.prefix() + "-owner", TestStack.PASSWORD, null));
    assertThat(adminLogin(newAddress(), m.prefix() + "-owner", TestStack.PASSWORD, null).status()).isEqualTo(200);
    // the operators' login counts the same way, in a realm of its own
    String operatorSprayer = newAddress();
    for (int i = 0; i < 8; i++) {
      assertThat(api.send(HttpMethod.POST, "/api/v1/platform/login", null, new JsonObject()
          .put("username", "nobody-" + i).put("password", "guess").toBuffer(), from(operatorSprayer)).status())
          .isEqualTo(401);
    }
    assertLimited(api.send(HttpMethod.POST, "/api/v1/platform/login", null, new JsonObject()
        .put("username", "nobody-else").put("password", "guess").toBuffer(), from(operatorSprayer)));
  }

  @Test
  void passwordHashesAreBoundedAndTheExcessIsRefusedAtOnce() throws Exception {
    // one hashing worker and two places to wait: a burst of 40 logins from 40 addresses cannot all queue
    List<Future<Reply>> burst = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      burst.add(api.sendAsync(HttpMethod.POST, "/api/v1/admin/login", null, new JsonObject()
          .put("username", "flood-" + UUID.randomUUID()).put("password", "x").toBuffer(), from(newAddress())));
    }
    List<Reply> replies = Future.all(burst).await(60, TimeUnit.SECONDS).list();
    long refused = replies.stream().filter(r -> r.status() == 429).count();
    long checked = replies.stream().filter(r -> r.status() == 401).count();
    assertThat(refused + checked).isEqualTo(40);
    assertThat(refused).as("refused without hashing").isPositive();
    replies.stream().filter(r -> r.status() == 429).forEach(AbuseLimitsTest::assertLimited);
  }

  @Test
  void aClientThatIsNotATrustedProxyCannotPickItsAddress() {
    // the shared stack trusts no proxy: X-Forwarded-For is ignored, every guess is 127.0.0.1's
    TestStack.Merchant m = stack.newMerchant();
    String user = m.prefix() + "-analyst";
    for (int i = 0; i < 5; i++) {
      Reply r = stack.api.send(HttpMethod.POST, "/api/v1/admin/login", null, new JsonObject().put("username", user)
          .put("password", "guess-" + i).toBuffer(), from(newAddress()));
      assertThat(r.status()).isEqualTo(401);
    }
    Reply r = stack.api.send(HttpMethod.POST, "/api/v1/admin/login", null, new JsonObject().put("username", user)
        .put("password", "guess").toBuffer(), from(newAddress()));
    assertLimited(r);
  }

  @Test
  void weChatLoginsArePerAddress() {
    String client = newAddress();
    for (int i = 0; i < 5; i++) {
      Reply r = api.send(HttpMethod.POST, "/api/v1/auth/login", null,
          new JsonObject().put("code", stack.newWeChatUser().getString("code")).toBuffer(), from(client));
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }
    Reply limited = api.send(HttpMethod.POST, "/api/v1/auth/login", null,
        new JsonObject().put("code", stack.newWeChatUser().getString("code")).toBuffer(), from(client));
    assertLimited(limited);
    assertThat(api.send(HttpMethod.POST, "/api/v1/auth/login", null,
        new JsonObject().put("code", stack.newWeChatUser().getString("code")).toBuffer(), from(newAddress())).status())
        .isEqualTo(200);
  }

  private static String userToken() {
    Reply r = api.send(HttpMethod.POST, "/api/v1/auth/login", null,
        new JsonObject().put("code", stack.newWeChatUser().getString("code")).toBuffer(), from(newAddress()));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.json().getString("token");
  }

  @Test
  void ordersArePerUser() {
    String token = userToken();
    String other = userToken();
    JsonObject body = new JsonObject().put("itemId", "999999999");
    for (int i = 0; i < 3; i++) {
      assertThat(api.post("/api/v1/orders", token, body).status()).isIn(400, 404);
    }
    assertLimited(api.post("/api/v1/orders", token, body));
    assertThat(api.post("/api/v1/orders", other, body).status()).isIn(400, 404);
  }

  @Test
  void profileChangesArePerUser() {
    String token = userToken();
    for (int i = 0; i < 3; i++) {
      Reply r = api.patch("/api/v1/me", token, new JsonObject().put("nickname", "Name " + i));
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }
    Reply limited = api.patch("/api/v1/me", token, new JsonObject().put("nickname", "Name again"));
    assertLimited(limited);
    assertThat(limited.json().getJsonObject("error").getString("message")).isNotBlank();
    assertThat(api.get("/api/v1/me", token).json().getString("nickname")).isEqualTo("Name 2");
    assertThat(api.patch("/api/v1/me", userToken(), new JsonObject().put("nickname", "Someone")).status())
        .isEqualTo(200);
  }
}

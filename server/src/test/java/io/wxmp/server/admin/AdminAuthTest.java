package io.wxmp.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Merchant accounts: Argon2 passwords, roles, the rate limit, and tokens that open only admin routes. */
class AdminAuthTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  private Reply login(String username, String password) {
    return stack.api.post("/api/v1/admin/login", null,
        new JsonObject().put("username", username).put("password", password));
  }

  @Test
  void loginAnswersTheMerchantAndRole() {
    TestStack.Merchant m = stack.newMerchant();
    Reply r = login(m.prefix() + "-editor", TestStack.PASSWORD);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("role")).isEqualTo("editor");
    assertThat(r.json().getJsonObject("merchant").getString("id")).isEqualTo(Long.toString(m.id()));
    assertThat(r.json().getString("token")).hasSizeGreaterThanOrEqualTo(40);

    String hash = stack.sql("SELECT password_hash FROM merchant_accounts WHERE username = $1",
        Tuple.of(m.prefix() + "-editor")).iterator().next().getString(0);
    assertThat(hash).startsWith("$argon2id$").doesNotContain(TestStack.PASSWORD);
  }

  @Test
  void wrongPasswordAndUnknownUserGet401() {
    TestStack.Merchant m = stack.newMerchant();
    Reply wrong = login(m.prefix() + "-owner", "not the password");
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.errorCode()).isEqualTo("unauthorized");
    assertThat(login("nobody-" + m.prefix(), "whatever").status()).isEqualTo(401);
    assertThat(login(m.prefix() + "-owner", null).status()).isEqualTo(400);
  }

  @Test
  void repeatedFailuresAreRateLimited() {
    TestStack.Merchant m = stack.newMerchant();
    String user = m.prefix() + "-analyst";
    for (int i = 0; i < 5; i++) {
      assertThat(login(user, "guess-" + i).status()).isEqualTo(401);
    }
    Reply limited = login(user, "guess-again");
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.errorCode()).isEqualTo("rate_limited");
    assertThat(Integer.parseInt(limited.headers().get("Retry-After"))).isPositive();
    // Even the right password waits out the window, so guessing cannot continue.
    assertThat(login(user, TestStack.PASSWORD).status()).isEqualTo(429);
    // Other accounts are not affected.
    assertThat(login(m.prefix() + "-owner", TestStack.PASSWORD).status()).isEqualTo(200);
  }

  @Test
  void concurrentGuessesCannotGetPastTheLimit() {
    TestStack.Merchant m = stack.newMerchant();
    String user = m.prefix() + "-editor";
    List<Future<Reply>> guesses = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      // case and surrounding whitespace name the same account, so they count against the same limit
      String name = i % 2 == 0 ? "  " + user.toUpperCase(java.util.Locale.ROOT) + " " : user;
      guesses.add(stack.api.sendAsync(HttpMethod.POST, "/api/v1/admin/login", null,
          new JsonObject().put("username", name).put("password", "guess-" + i).toBuffer(), null));
    }
    List<Reply> replies;
    try {
      replies = Future.all(guesses).await(60, TimeUnit.SECONDS).list();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    long checked = replies.stream().filter(r -> r.status() == 401).count();
    long limited = replies.stream().filter(r -> r.status() == 429).count();
    assertThat(checked).as("passwords actually tried").isLessThanOrEqualTo(5);
    assertThat(checked + limited).isEqualTo(20);
    assertThat(login(user, TestStack.PASSWORD).status()).isEqualTo(429);
  }

  @Test
  void tokensOnlyOpenTheirOwnSide() {
    TestStack.Merchant m = stack.newMerchant();
    String userToken = stack.newUserToken();
    Reply userOnAdmin = stack.api.post("/api/v1/admin/logout", userToken, null);
    assertThat(userOnAdmin.status()).isEqualTo(401);
    assertThat(userOnAdmin.errorCode()).isEqualTo("unauthorized");
    assertThat(stack.api.get("/api/v1/admin/anything", null).status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/me", m.owner()).status()).isEqualTo(401);
  }

  @Test
  void logoutRevokesTheMerchantToken() {
    TestStack.Merchant m = stack.newMerchant();
    assertThat(stack.api.post("/api/v1/admin/logout", m.editor(), null).status()).isEqualTo(204);
    assertThat(stack.api.post("/api/v1/admin/logout", m.editor(), null).status()).isEqualTo(401);
  }
}

package io.wxmp.server.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.wxmp.server.OperatorCommand;
import io.wxmp.server.Settings;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Operators: made on the command line, logged in with a rate limit, and their tokens open /platform/* only. */
class OperatorsTest {
  static final Pattern PRINTED = Pattern.compile("Operator {3}(\\S+) {2}password: (\\S+)");
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  /** Runs {@code operator create <username>} against the given settings; answers {exit, out, err}. */
  public static String[] createOperator(java.util.Map<String, String> settings, String username) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = OperatorCommand.run(new String[] {"operator", "create", username}, Settings.of(settings),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new String[] {Integer.toString(exit), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
  }

  /** A new operator's one-time password, read from what the command printed. */
  public static String passwordOf(String[] result) {
    Matcher m = PRINTED.matcher(result[1]);
    assertThat(m.find()).as("printed: " + result[1] + result[2]).isTrue();
    return m.group(2);
  }

  static String newOperator() {
    return "op-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private Reply login(String username, String password) {
    return stack.api.post("/api/v1/platform/login", null,
        new JsonObject().put("username", username).put("password", password));
  }

  @Test
  void theCommandPrintsAOneTimePasswordThatLogsIn() {
    String name = newOperator();
    String[] made = createOperator(stack.settings, name);
    assertThat(made[0]).as(made[2]).isEqualTo("0");
    String password = passwordOf(made);
    assertThat(password).hasSizeGreaterThanOrEqualTo(12);
    String hash = stack.sql("SELECT password_hash FROM operators WHERE username = $1", Tuple.of(name))
        .iterator().next().getString(0);
    assertThat(hash).startsWith("$argon2id$").doesNotContain(password);

    Reply r = login(name, password);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getJsonObject("operator").getString("username")).isEqualTo(name);
    assertThat(r.json().getJsonObject("operator").getString("id")).matches("\\d+");
    assertThat(r.json().getLong("expiresIn")).isPositive();
    assertThat(r.json().getString("token")).hasSizeGreaterThanOrEqualTo(40);

    // the same name again (in any case) is refused and changes nothing
    String[] again = createOperator(stack.settings, name.toUpperCase(java.util.Locale.ROOT));
    assertThat(again[0]).isEqualTo("1");
    assertThat(again[2]).contains("exists");
    assertThat(login(name, password).status()).isEqualTo(200);
  }

  @Test
  void theCommandRefusesBadUsage() {
    assertThat(createOperator(stack.settings, "has space")[0]).isEqualTo("2");
    java.util.Map<String, String> noDatabase = new java.util.HashMap<>(stack.settings);
    noDatabase.remove("WXMP_PG_URL");
    String[] result = createOperator(noDatabase, newOperator());
    assertThat(result[0]).isEqualTo("2");
    assertThat(result[2]).contains("WXMP_PG_URL");
  }

  @Test
  void wrongPasswordsAreRejectedAndRateLimited() {
    String name = newOperator();
    String password = passwordOf(createOperator(stack.settings, name));
    assertThat(login(name, "wrong").status()).isEqualTo(401);
    assertThat(login("nobody-" + name, "wrong").errorCode()).isEqualTo("unauthorized");
    assertThat(login(name, null).status()).isEqualTo(400);
    for (int i = 0; i < 4; i++) {
      assertThat(login(name, "guess-" + i).status()).isEqualTo(401);
    }
    Reply limited = login(name, password);
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.errorCode()).isEqualTo("rate_limited");
    assertThat(limited.headers().get("Retry-After")).isNotNull();
  }

  @Test
  void operatorTokensOpenOnlyPlatformRoutes() {
    String name = newOperator();
    String token = login(name, passwordOf(createOperator(stack.settings, name))).json().getString("token");
    TestStack.Merchant m = stack.newMerchant();
    String user = stack.newUserToken();

    // operator tokens are not merchant or user tokens
    assertThat(stack.api.get("/api/v1/admin/items", token).status()).isEqualTo(401);
    assertThat(stack.api.post("/api/v1/admin/logout", token, null).status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/me", token).status()).isEqualTo(401);
    assertThat(stack.api.get("/api/v1/orders", token).status()).isEqualTo(401);
    // and merchant or user tokens are not operator tokens
    for (String other : new String[] {m.owner(), user, null}) {
      Reply r = stack.api.post("/api/v1/platform/logout", other, null);
      assertThat(r.status()).isEqualTo(401);
      assertThat(r.errorCode()).isEqualTo("unauthorized");
      assertThat(stack.api.get("/api/v1/platform/anything", other).status()).isEqualTo(401);
    }
    // an unknown platform path behind a valid token is a 404
    assertThat(stack.api.get("/api/v1/platform/anything", token).status()).isEqualTo(404);

    assertThat(stack.api.post("/api/v1/platform/logout", token, null).status()).isEqualTo(204);
    assertThat(stack.api.post("/api/v1/platform/logout", token, null).status()).isEqualTo(401);
  }
}

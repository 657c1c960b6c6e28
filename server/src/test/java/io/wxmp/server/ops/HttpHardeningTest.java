package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.wxmp.server.testkit.LogCapture;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What every answer carries, what the HTTP decoder refuses, and what the access log says about unanswered requests. */
class HttpHardeningTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
  }

  @Test
  void everyAnswerIsNosniffAndTokenAnswersAreNotStored() {
    assertThat(stack.api.get("/health/live", null).headers().get("X-Content-Type-Options")).isEqualTo("nosniff");
    Reply notFound = stack.api.get("/api/v1/no-such-route", null);
    assertThat(notFound.status()).isEqualTo(404);
    assertThat(notFound.headers().get("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(notFound.headers().get("Cache-Control")).isEqualTo("no-store");

    Reply login = stack.api.post("/api/v1/auth/login", null,
        new JsonObject().put("code", stack.newWeChatUser().getString("code")));
    assertThat(login.status()).isEqualTo(200);
    assertThat(login.json().getString("token")).isNotBlank();
    assertThat(login.headers().get("Cache-Control")).isEqualTo("no-store");
    assertThat(login.headers().get("X-Content-Type-Options")).isEqualTo("nosniff");

    TestStack.Merchant m = stack.newMerchant();
    Reply admin = stack.api.post("/api/v1/admin/login", null,
        new JsonObject().put("username", m.prefix() + "-owner").put("password", TestStack.PASSWORD));
    assertThat(admin.status()).isEqualTo(200);
    assertThat(admin.headers().get("Cache-Control")).isEqualTo("no-store");
    Reply me = stack.api.get("/api/v1/me", login.json().getString("token"));
    assertThat(me.headers().get("Cache-Control")).isEqualTo("no-store");
  }

  @Test
  void corsStaysOff() {
    MultiMap preflight = MultiMap.caseInsensitiveMultiMap().add("Origin", "https://evil.example")
        .add("Access-Control-Request-Method", "POST").add("Access-Control-Request-Headers", "authorization");
    Reply options = stack.api.send(HttpMethod.OPTIONS, "/api/v1/auth/login", null, null, preflight);
    assertThat(options.headers().get("Access-Control-Allow-Origin")).isNull();
    assertThat(options.headers().get("Access-Control-Allow-Credentials")).isNull();
    Reply get = stack.api.send(HttpMethod.GET, "/health/live", null, null,
        MultiMap.caseInsensitiveMultiMap().add("Origin", "https://evil.example"));
    assertThat(get.status()).isEqualTo(200);
    assertThat(get.headers().get("Access-Control-Allow-Origin")).isNull();
  }

  @Test
  void anOversizedUrlGetsTheErrorBody() {
    Reply r = stack.api.get("/api/v1/items?tag=" + "x".repeat(9_000), null);
    assertThat(r.status()).isEqualTo(414);
    assertThat(r.errorCode()).isEqualTo("uri_too_long");
    assertThat(r.json().getJsonObject("error").getString("message")).as("Chinese by default (API.md Conventions)")
        .isEqualTo("请求地址过长。");
    assertThat(r.headers().get("Content-Type")).startsWith("application/json");
    assertThat(stack.api.get("/health/live", null).status()).as("the server still answers").isEqualTo(200);
  }

  @Test
  void oversizedHeadersGetTheErrorBody() {
    Reply r = stack.api.send(HttpMethod.GET, "/api/v1/me", null, null,
        MultiMap.caseInsensitiveMultiMap().add("X-Filler", "y".repeat(20_000)));
    assertThat(r.status()).isEqualTo(431);
    assertThat(r.errorCode()).isEqualTo("headers_too_large");
    assertThat(r.json().getJsonObject("error").getString("message")).isEqualTo("请求头过大。");
    assertThat(r.headers().get("Content-Type")).startsWith("application/json");
  }

  @Test
  void aRequestWhoseClientLeftIsNotLoggedAs200() throws Exception {
    String id = "gone-" + UUID.randomUUID();
    ILoggingEvent line;
    try (LogCapture access = new LogCapture("wxmp.access")) {
      TestStack.Merchant m = stack.newMerchant();
      // an admin login checks an Argon2 hash (tens of ms) before answering: the client is gone by then
      String body = new JsonObject().put("username", m.prefix() + "-owner").put("password", TestStack.PASSWORD)
          .encode();
      try (Socket socket = new Socket("127.0.0.1", stack.apiPort())) {
        socket.getOutputStream().write(("POST /api/v1/admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Content-Type: application/json\r\nX-Request-Id: " + id + "\r\nContent-Length: "
            + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
      }
      TestStack.eventually("the access log line of the abandoned request", 10_000, () -> access.events().stream()
          .anyMatch(e -> id.equals(e.getMDCPropertyMap().get("requestId"))));
      line = access.events().stream().filter(e -> id.equals(e.getMDCPropertyMap().get("requestId"))).findFirst()
          .orElseThrow();
    }
    assertThat(line.getFormattedMessage()).contains("/api/v1/admin/login").contains(" 499 ").doesNotContain(" 200 ");
  }

  static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}

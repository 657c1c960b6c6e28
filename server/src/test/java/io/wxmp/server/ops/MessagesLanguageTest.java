package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import org.junit.jupiter.api.Test;

/** API.md Conventions: error messages in Chinese unless Accept-Language asks for English; the code never changes. */
class MessagesLanguageTest {
  private static Reply get(String path, String language) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (language != null) {
      headers.add("Accept-Language", language);
    }
    return TestStack.shared().api.send(HttpMethod.GET, path, null, null, headers);
  }

  private static Reply badJson(String language) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json");
    if (language != null) {
      headers.add("Accept-Language", language);
    }
    return TestStack.shared().api.send(HttpMethod.POST, "/api/v1/auth/login", null, Buffer.buffer("{not json"), headers);
  }

  private static boolean chinese(String s) {
    return s.codePoints().anyMatch(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN);
  }

  @Test
  void chineseByDefaultEnglishWhenAsked() {
    for (String zh : new String[] {null, "zh-CN", "zh-CN,zh;q=0.9,en;q=0.8", "fr", "garbage;;q"}) {
      Reply r = get("/api/v1/me", zh);
      assertThat(r.status()).isEqualTo(401);
      assertThat(r.errorCode()).isEqualTo("unauthorized");
      assertThat(chinese(r.json().getJsonObject("error").getString("message"))).as("Accept-Language: " + zh).isTrue();
      assertThat(r.headers().get("Vary")).contains("Accept-Language");
    }
    for (String en : new String[] {"en", "en-US,en;q=0.9,zh-CN;q=0.5"}) {
      Reply r = get("/api/v1/me", en);
      assertThat(r.errorCode()).isEqualTo("unauthorized");
      assertThat(chinese(r.json().getJsonObject("error").getString("message"))).as("Accept-Language: " + en).isFalse();
    }
    Reply zh = badJson(null);
    Reply en = badJson("en");
    assertThat(zh.status()).isEqualTo(400);
    assertThat(en.errorCode()).isEqualTo(zh.errorCode()).isEqualTo("bad_request");
    assertThat(chinese(zh.json().getJsonObject("error").getString("message"))).isTrue();
    assertThat(en.json().getJsonObject("error").getString("message")).isEqualTo("The body is not valid JSON.");
  }
}

package io.wxmp.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import io.wxmp.server.testkit.TestStack;
import org.junit.jupiter.api.Test;

/** Dev mode keeps its data under the data directory: what was written before a restart is there after it. */
class DevModeRestartTest {
  @Test
  void dataSurvivesARestart() {
    TestStack first = TestStack.create();
    String openid;
    try {
      JsonObject wx = first.newWeChatUser();
      openid = wx.getString("openid");
      String token = first.api.post("/api/v1/auth/login", null, new JsonObject().put("code", wx.getString("code")))
          .json().getString("token");
      assertThat(first.api.patch("/api/v1/me", token, new JsonObject().put("nickname", "Before Restart")).status())
          .isEqualTo(200);
    } finally {
      first.close();
    }

    TestStack second = TestStack.reopen(first.dev.dataDir());
    try {
      String code = second.codeFor(openid);
      JsonObject login = second.api.post("/api/v1/auth/login", null, new JsonObject().put("code", code)).json();
      assertThat(login.getJsonObject("user").getBoolean("isNew")).isFalse();
      assertThat(login.getJsonObject("user").getString("nickname")).isEqualTo("Before Restart");
    } finally {
      second.close();
    }
  }
}

package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two server instances on one PostgreSQL and Redis, as behind a load balancer: a token made by one works on the
 * other, and after WeChat invalidates the access token, concurrent calls through both refresh it exactly once.
 */
class ScaleOutTest {
  @Test
  void twoInstancesShareSessionsAndOneAccessToken() throws Exception {
    TestStack stack = TestStack.shared();
    int port = TestStack.freePort();
    Map<String, String> settings = new HashMap<>(stack.settings);
    settings.put("WXMP_HTTP_PORT", Integer.toString(port));
    WxmpServer second = WxmpServer.start(Settings.of(settings)).await(60, TimeUnit.SECONDS);
    try {
      Http other = new Http(io.vertx.ext.web.client.WebClient.create(stack.clientVertx), port);
      String token = stack.newUserToken();
      assertThat(other.get("/api/v1/me", token).status()).isEqualTo(200);

      List<String> tokens = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        tokens.add(stack.newUserToken());
      }
      assertThat(stack.sandbox.post("/sandbox/tokens/expire", null, null).status()).isEqualTo(204);
      long issuedBefore = stack.sandbox.get("/sandbox/stats", null).json().getLong("tokensIssued");
      // Nickname changes go through WeChat content security, which needs the access token.
      List<Future<Reply>> updates = new ArrayList<>();
      for (int i = 0; i < tokens.size(); i++) {
        Http target = i % 2 == 0 ? stack.api : other;
        updates.add(target.sendAsync(HttpMethod.PATCH, "/api/v1/me", tokens.get(i),
            new JsonObject().put("nickname", "reader " + i).toBuffer(), null));
      }
      for (Future<Reply> update : updates) {
        assertThat(update.await(30, TimeUnit.SECONDS).status()).isEqualTo(200);
      }
      long issuedAfter = stack.sandbox.get("/sandbox/stats", null).json().getLong("tokensIssued");
      assertThat(issuedAfter - issuedBefore).isEqualTo(1);
    } finally {
      second.close().await(30, TimeUnit.SECONDS);
    }
  }
}

package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Health, metrics, the OpenAPI document, and readiness following Redis going away and coming back. */
class OperationsTest {
  static TestStack stack;

  @BeforeAll
  static void start() {
    stack = TestStack.create(); // its own: this test stops Redis
  }

  @AfterAll
  static void stop() {
    stack.close();
  }

  @Test
  void liveReadyMetricsAndOpenApi() {
    assertThat(stack.api.get("/health/live", null).status()).isEqualTo(200);
    Reply ready = stack.api.get("/health/ready", null);
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().getJsonObject("checks").getString("postgres")).isEqualTo("up");

    stack.newUserToken();
    Reply metrics = stack.management().get("/metrics", null); // the management port (MetricsTest)
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.raw().toString()).contains("vertx_http_server_response_time_seconds_bucket");

    Reply openapi = stack.api.get("/openapi.yaml", null);
    assertThat(openapi.status()).isEqualTo(200);
    assertThat(openapi.raw().toString()).contains("/auth/login").contains("/admin/login");
    assertThat(openapi.headers().get("X-Request-Id")).isNotBlank();
  }

  @Test
  void readinessFollowsRedis() throws Exception {
    stack.dev.stopRedis();
    try {
      TestStack.eventually("ready turns 503", 10_000, () -> stack.api.get("/health/ready", null).status() == 503);
      Reply down = stack.api.get("/health/ready", null);
      assertThat(down.json().getJsonObject("checks").getString("redis")).isEqualTo("down");
      assertThat(down.json().getJsonObject("checks").getString("postgres")).isEqualTo("up");
      Reply me = stack.api.get("/api/v1/me", "some-token-some-token-some-token-x");
      assertThat(me.status()).isEqualTo(503);
      assertThat(me.errorCode()).isEqualTo("upstream_unavailable");
    } finally {
      stack.dev.startRedis();
    }
    TestStack.eventually("ready back to 200", 20_000, () -> stack.api.get("/health/ready", null).status() == 200);
  }
}

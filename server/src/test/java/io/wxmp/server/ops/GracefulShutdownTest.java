package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Closing the server (what SIGTERM does) lets a request already in flight finish before the pools close. */
class GracefulShutdownTest {
  @Test
  void inFlightRequestFinishesDuringShutdown() throws Exception {
    TestStack stack = TestStack.create();
    try {
      stack.newUserToken(); // warms the access token, so the slow login below makes one WeChat call
      String code = stack.newWeChatUser().getString("code");
      // WeChat answers slowly (but within the upstream timeout), so the login is still in flight when we close.
      stack.sandbox.post("/sandbox/faults", null, new JsonObject().put("delayMs", 700));
      Future<Reply> login = stack.api.sendAsync(HttpMethod.POST, "/api/v1/auth/login", null,
          new JsonObject().put("code", code).toBuffer(), null);
      TestStack.eventually("the login reaches WeChat", 5_000,
          () -> stack.sandbox.get("/sandbox/stats", null).json().getLong("code2sessionCalls", 0L) > 1
              || login.isComplete());
      Future<Void> closed = stack.server().close();
      Reply reply = login.await(10, TimeUnit.SECONDS);
      assertThat(reply.status()).isEqualTo(200);
      assertThat(reply.json().getString("token")).isNotBlank();
      closed.await(30, TimeUnit.SECONDS);
    } finally {
      stack.sandbox.post("/sandbox/faults", null, new JsonObject().put("delayMs", 0));
      stack.dev.close();
    }
  }
}

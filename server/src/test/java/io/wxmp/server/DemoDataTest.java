package io.wxmp.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.sqlclient.Tuple;
import io.wxmp.server.testkit.TestStack;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Dev-mode demo data is seeded idempotently and gives dev mode a quiz that users can play. */
class DemoDataTest {
  @Test
  void seedingTwiceLeavesOnePlayableDemoQuiz() throws Exception {
    TestStack stack = TestStack.shared();
    DemoData.Seeded first = DemoData.seed(stack.server().pool(), stack.server().vertx()).await(60, TimeUnit.SECONDS);
    DemoData.Seeded second = DemoData.seed(stack.server().pool(), stack.server().vertx()).await(60, TimeUnit.SECONDS);
    assertThat(second.merchantId()).isEqualTo(first.merchantId());
    assertThat(stack.count("SELECT count(*) FROM quizzes WHERE merchant_id = $1 AND title = $2",
        Tuple.of(first.merchantId(), DemoData.QUIZ_TITLE))).isEqualTo(1);
    long quizId = stack.count("SELECT id FROM quizzes WHERE merchant_id = $1 AND title = $2",
        Tuple.of(first.merchantId(), DemoData.QUIZ_TITLE));
    String token = stack.newUserToken();
    assertThat(stack.api.get("/api/v1/quizzes/" + quizId, token).json().getJsonArray("questions")).hasSize(3);
    assertThat(stack.api.post("/api/v1/quizzes/" + quizId + "/attempts", token, null).status()).isEqualTo(201);
  }

  @Test
  void theDemoOperatorLogsInWithThisStartsPassword() throws Exception {
    TestStack stack = TestStack.shared();
    DemoData.Seeded seeded = DemoData.seed(stack.server().pool(), stack.server().vertx()).await(60, TimeUnit.SECONDS);
    var login = stack.api.post("/api/v1/platform/login", null, new io.vertx.core.json.JsonObject()
        .put("username", DemoData.OPERATOR).put("password", seeded.password()));
    assertThat(login.status()).isEqualTo(200);
    assertThat(login.json().getJsonObject("operator").getString("username")).isEqualTo("demo-operator");
  }
}

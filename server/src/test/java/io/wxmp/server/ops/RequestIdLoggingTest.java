package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.wxmp.handlers.auth.AuthRoutes;
import io.wxmp.handlers.pay.OrderRoutes;
import io.wxmp.server.RequestIdMdc;
import io.wxmp.server.testkit.LogCapture;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A line the server logs while handling a request carries that request's X-Request-Id in its MDC (no log call passes
 * it): after asynchronous hops through PostgreSQL and Redis, on a failure path, with many requests at once, and in
 * both of the shipped logback.xml's formats.
 */
class RequestIdLoggingTest {
  static TestStack stack;
  /** The shipped logback.xml, as WXMP_LOG_FORMAT=text (the default) and =json configure it. */
  static LoggerContext text;
  static LoggerContext json;

  @BeforeAll
  static void start() throws Exception {
    stack = TestStack.shared();
    text = LogCapture.shipped(null);
    json = LogCapture.shipped("json");
  }

  @AfterAll
  static void stop() {
    text.stop();
    json.stop();
  }

  @Test
  void concurrentErasuresEachLogTheirOwnRequestId() throws Exception {
    int n = 12;
    List<String> tokens = new ArrayList<>();
    List<String> userIds = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String token = stack.newUserToken();
      tokens.add(token);
      userIds.add(stack.api.get("/api/v1/me", token).json().getString("id"));
    }
    List<Reply> replies = new ArrayList<>();
    try (LogCapture log = new LogCapture(AuthRoutes.class)) {
      List<Future<Reply>> erasing = new ArrayList<>();
      for (String token : tokens) {
        erasing.add(stack.api.sendAsync(HttpMethod.DELETE, "/api/v1/me", token, null, null));
      }
      for (Future<Reply> f : erasing) {
        replies.add(f.await(30, TimeUnit.SECONDS));
      }
      TestStack.eventually("an 'erased' line per user", 10_000, () -> userIds.stream()
          .allMatch(id -> log.find("user " + id + " erased") != null));
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < n; i++) {
        assertThat(replies.get(i).status()).isEqualTo(204);
        String requestId = replies.get(i).headers().get("X-Request-Id");
        assertThat(requestId).isNotBlank();
        assertThat(seen.add(requestId)).as("request ids are distinct").isTrue();
        ILoggingEvent line = log.find("user " + userIds.get(i) + " erased");
        assertThat(line.getMDCPropertyMap().get(RequestIdMdc.KEY)).as("the erasure of user %s", userIds.get(i))
            .isEqualTo(requestId);
        assertRendered(line, requestId);
      }
    }
  }

  @Test
  void aRejectedNotifyLogsWithItsRequestId() throws Exception {
    try (LogCapture log = new LogCapture(OrderRoutes.class)) {
      List<Future<Reply>> sending = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        sending.add(stack.api.sendAsync(HttpMethod.POST, "/api/v1/pay/notify", null,
            Buffer.buffer(new JsonObject().put("id", "forged-" + i).encode()), null));
      }
      Set<String> requestIds = new HashSet<>();
      for (Future<Reply> f : sending) {
        Reply reply = f.await(30, TimeUnit.SECONDS);
        assertThat(reply.status()).isEqualTo(401);
        requestIds.add(reply.headers().get("X-Request-Id"));
      }
      TestStack.eventually("a 'rejected' line per notify", 10_000, () -> log.events().stream()
          .filter(e -> e.getFormattedMessage().contains("rejected WeChat Pay notify")).count() >= 6);
      Set<String> logged = new HashSet<>();
      for (ILoggingEvent e : log.events()) {
        if (e.getFormattedMessage().contains("rejected WeChat Pay notify")) {
          logged.add(e.getMDCPropertyMap().get(RequestIdMdc.KEY));
          assertRendered(e, e.getMDCPropertyMap().get(RequestIdMdc.KEY));
        }
      }
      assertThat(logged).as("one line per request, each with its own id").containsAll(requestIds);
    }
  }

  /**
   * No request path of the server logs from blocking code today, so a router of the test's own does what such a
   * route would: log on the event loop, in executeBlocking, on a named worker executor, and after a timer.
   */
  @Test
  void blockingAndWorkerCodeLogsWithTheRequestId() throws Exception {
    io.vertx.core.Vertx vertx = stack.clientVertx;
    org.slf4j.Logger logger = org.slf4j.LoggerFactory.getLogger("wxmp.test.blocking");
    io.vertx.core.WorkerExecutor workers = vertx.createSharedWorkerExecutor("wxmp-test-mdc", 2);
    io.vertx.ext.web.Router router = io.vertx.ext.web.Router.router(vertx);
    router.route().handler(io.wxmp.handlers.common.RequestIds::assign);
    router.get("/work").handler(ctx -> {
      logger.info("on the event loop");
      vertx.executeBlocking(() -> {
        logger.info("in executeBlocking");
        return null;
      }).compose(v -> workers.executeBlocking(() -> {
        logger.info("on a worker executor");
        return null;
      })).compose(v -> vertx.timer(5)).onComplete(v -> {
        logger.info("after a timer");
        ctx.response().end();
      });
    });
    io.vertx.core.http.HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .await(10, TimeUnit.SECONDS);
    try (LogCapture log = new LogCapture("wxmp.test.blocking")) {
      io.wxmp.server.testkit.Http http = io.wxmp.server.testkit.Http.testOwnRouter(
          io.vertx.ext.web.client.WebClient.create(vertx), server.actualPort());
      List<Future<Reply>> sending = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        sending.add(http.sendAsync(HttpMethod.GET, "/work", null, null, null));
      }
      Set<String> ids = new HashSet<>();
      for (Future<Reply> f : sending) {
        ids.add(f.await(30, TimeUnit.SECONDS).headers().get("X-Request-Id"));
      }
      assertThat(ids).hasSize(8).doesNotContainNull();
      assertThat(log.events()).hasSize(32);
      for (String where : List.of("on the event loop", "in executeBlocking", "on a worker executor", "after a timer")) {
        assertThat(log.events().stream().filter(e -> e.getFormattedMessage().equals(where))
            .map(e -> e.getMDCPropertyMap().get(RequestIdMdc.KEY)).toList())
            .as(where).containsExactlyInAnyOrderElementsOf(ids);
      }
    } finally {
      server.close().await(10, TimeUnit.SECONDS);
      workers.close();
    }
  }

  @Test
  void linesOutsideOfARequestCarryNoId() throws Exception {
    try (LogCapture log = new LogCapture("wxmp.test.outside")) {
      // the MDC of this thread as a request on it could have left it
      org.slf4j.MDC.put(RequestIdMdc.KEY, "stale-id-0000");
      org.slf4j.LoggerFactory.getLogger("wxmp.test.outside").info("no request here");
      assertThat(log.events()).hasSize(1);
      assertThat(log.events().get(0).getMDCPropertyMap()).doesNotContainKey(RequestIdMdc.KEY);
      assertThat(text(log.events().get(0))).doesNotContain("[]").contains(" - no request here");
    }
  }

  /** The text line has the id in brackets after the logger; the JSON line has it in {@code mdc}. */
  private static void assertRendered(ILoggingEvent event, String requestId) {
    assertThat(text(event)).contains(" [" + requestId + "] - ");
    JsonObject line = new JsonObject(encode(json, event).strip());
    assertThat(line.getJsonObject("mdc").getString(RequestIdMdc.KEY)).isEqualTo(requestId);
  }

  private static String text(ILoggingEvent event) {
    return encode(text, event);
  }

  @SuppressWarnings("unchecked")
  private static String encode(LoggerContext context, ILoggingEvent event) {
    var appenders = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders();
    OutputStreamAppender<ILoggingEvent> out = (OutputStreamAppender<ILoggingEvent>) appenders.next();
    return new String(out.getEncoder().encode(event), StandardCharsets.UTF_8);
  }

  @Test
  void theShippedConfigurationPutsTheIdIntoTheMdc() {
    assertThat(text.getTurboFilterList()).anyMatch(f -> f instanceof RequestIdMdc);
    assertThat(json.getTurboFilterList()).anyMatch(f -> f instanceof RequestIdMdc);
  }
}

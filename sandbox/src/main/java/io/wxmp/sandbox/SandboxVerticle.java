package io.wxmp.sandbox;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WeChat simulator: one HTTP/1.1 server speaking the mini-program server API, WeChat Pay v3 and the sandbox
 * control API on one port. Deploy one instance; all its state lives on its event loop and dies with it.
 */
public final class SandboxVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SandboxVerticle.class);
  /** Room for a 1 MiB image in a multipart body (img_sec_check). */
  private static final int BODY_LIMIT = 2 * 1024 * 1024;

  private final SandboxConfig config;
  private volatile int actualPort = -1;
  private long pruneTimer = -1;
  private Notifier notifier;
  private PayApi pay;

  private final long notifyAnswerTimeoutMs;

  public SandboxVerticle(SandboxConfig config) {
    this(config, Notifier.ANSWER_TIMEOUT_MS);
  }

  /** For tests of a merchant that does not answer: how long a notify waits for its answer (WeChat: 5 s). */
  SandboxVerticle(SandboxConfig config, long notifyAnswerTimeoutMs) {
    this.config = java.util.Objects.requireNonNull(config, "config");
    this.notifyAnswerTimeoutMs = notifyAnswerTimeoutMs;
  }

  @Override
  public Future<?> start() {
    Wire wire = new Wire(vertx);
    WxUsers users = new WxUsers();
    Stats stats = new Stats("tokensIssued", "tokenRequests", "code2sessionCalls", "phoneNumberCalls",
        "msgSecChecks", "messagesSent", "ordersCreated", "paymentsConfirmed", "refundsCreated", "notifyAttempts",
        "notifiesDelivered", "payRequestsRejected");
    MiniProgramApi miniProgram = new MiniProgramApi(config, wire, users, stats);
    ControlApi control = new ControlApi(wire, users, stats, miniProgram);
    PayCrypto crypto = new PayCrypto(config);
    notifier = new Notifier(vertx, config, crypto, stats, notifyAnswerTimeoutMs);
    pay = new PayApi(vertx, config, wire, crypto, notifier, stats);

    Router router = Router.router(vertx);
    // img_sec_check is the one multipart upload (the image in field "media"); the plain body handler skips it then
    router.post("/wxa/img_sec_check").handler(BodyHandler.create(System.getProperty("java.io.tmpdir")
        + "/wxmp-sandbox-uploads").setBodyLimit(BODY_LIMIT).setDeleteUploadedFilesOnEnd(true));
    router.route().handler(BodyHandler.create().setHandleFileUploads(false).setBodyLimit(BODY_LIMIT));
    miniProgram.mount(router);
    control.mount(router);
    pay.mount(router);
    router.route().last().handler(ctx -> wire.json(ctx, 404,
        new JsonObject().put("code", "NOT_FOUND").put("message", "the sandbox does not simulate " + ctx.request().path())));
    router.route().failureHandler(ctx -> {
      int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
      if (status >= 500) {
        LOG.error("sandbox failed on {} {}", ctx.request().method(), ctx.request().path(), ctx.failure());
      }
      if (!ctx.response().ended()) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("code", status >= 500 ? "SYSTEM_ERROR" : "PARAM_ERROR")
                .put("message", "sandbox: HTTP " + status).encode());
      }
    });

    pruneTimer = vertx.setPeriodic(60_000, id -> {
      long now = System.currentTimeMillis();
      users.prune(now);
      miniProgram.prune(now);
    });

    return vertx.createHttpServer(new HttpServerOptions().setHost(config.host()).setPort(config.port())
            .setHttp2ClearTextEnabled(false))
        .requestHandler(router)
        .listen()
        .onSuccess(server -> {
          actualPort = server.actualPort();
          LOG.info("WeChat sandbox listening on http://{}:{} (appid {}, mchid {})",
              config.host(), actualPort, config.appId(), config.mchId());
        });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(pruneTimer);
    pay.close();
    notifier.close();
    return Future.succeededFuture();
  }

  /** The port the sandbox listens on; valid once {@link #start()} has succeeded. */
  public int actualPort() {
    if (actualPort < 0) {
      throw new IllegalStateException("the sandbox has not started");
    }
    return actualPort;
  }

  /** The configuration this sandbox runs with. */
  public SandboxConfig sandboxConfig() {
    return config;
  }
}

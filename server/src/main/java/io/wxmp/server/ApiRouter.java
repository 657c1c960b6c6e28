package io.wxmp.server;

import io.vertx.core.Handler;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.wxmp.handlers.admin.AdminAuthRoutes;
import io.wxmp.handlers.auth.AuthRoutes;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.FailureHandler;
import io.wxmp.handlers.common.RequestIds;
import io.wxmp.handlers.items.ItemRoutes;
import io.wxmp.handlers.pay.OrderRoutes;
import io.wxmp.handlers.quiz.QuizRoutes;
import io.wxmp.handlers.stats.StatsRoutes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The whole HTTP surface: operations endpoints, then every feature router under {@code /api/v1}. */
final class ApiRouter {
  static final String API = "/api/v1";
  static final int BODY_LIMIT = 64 * 1024;
  private static final Logger access = LoggerFactory.getLogger("wxmp.access");

  private ApiRouter() {}

  static Router create(Deps deps, Health health, PrometheusMeterRegistry registry, String openApiYaml,
      QuizRoutes.Config quiz) {
    Router root = Router.router(deps.vertx());
    root.route().handler(RequestIds::assign);
    root.route().handler(ApiRouter::accessLog);

    root.get("/health/live").handler(ctx -> ctx.json(new io.vertx.core.json.JsonObject().put("status", "up")));
    root.get("/health/ready").handler(health::ready);
    root.get("/metrics").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(registry.scrape()));
    root.get("/openapi.yaml").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "application/yaml; charset=utf-8").end(openApiYaml));
    AdminConsole.mount(root);

    root.route(API + "/*").handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT));
    root.route(API + "/admin/*").handler(adminGate(deps));
    root.route(API + "/*").subRouter(AuthRoutes.create(deps));
    root.route(API + "/*").subRouter(AdminAuthRoutes.create(deps));
    root.route(API + "/*").subRouter(ItemRoutes.create(deps));
    root.route(API + "/*").subRouter(OrderRoutes.create(deps));
    root.route(API + "/*").subRouter(QuizRoutes.create(deps, quiz));
    root.route(API + "/*").subRouter(StatsRoutes.create(deps));

    root.route().last().handler(FailureHandler::notFound);
    root.route().failureHandler(FailureHandler::handle);
    return root;
  }

  /** Every admin route needs a merchant token, except the login that hands one out. */
  private static Handler<RoutingContext> adminGate(Deps deps) {
    Handler<RoutingContext> merchants = Authenticate.merchants(deps.sessions());
    return ctx -> {
      if (ctx.request().path().equals(API + "/admin/login")) {
        ctx.next();
      } else {
        merchants.handle(ctx);
      }
    };
  }

  private static void accessLog(RoutingContext ctx) {
    long start = System.nanoTime();
    ctx.addEndHandler(done -> access.info("[{}] {} {} {} {}ms", RequestIds.of(ctx), ctx.request().method(),
        ctx.request().path(), ctx.response().getStatusCode(), (System.nanoTime() - start) / 1_000_000));
    ctx.next();
  }
}

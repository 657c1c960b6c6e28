package io.wxmp.handlers.platform;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.admin.LoginThrottle;
import io.wxmp.handlers.admin.Passwords;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.common.OperatorPrincipal;
import io.wxmp.handlers.common.Respond;
import io.wxmp.handlers.common.Sessions;

/**
 * {@code /platform/login} and {@code /platform/logout} for operators. The server puts {@link Authenticate#operators}
 * in front of every {@code /platform/*} route but the login, so the feature routers mounted there need not.
 */
public final class PlatformRoutes {
  private final Vertx vertx;
  private final OperatorRepository operators;
  private final Sessions sessions;
  private final LoginThrottle throttle;

  private PlatformRoutes(Vertx vertx, OperatorRepository operators, Sessions sessions, LoginThrottle throttle) {
    this.vertx = vertx;
    this.operators = operators;
    this.sessions = sessions;
    this.throttle = throttle;
  }

  public static Router create(Deps deps) {
    PlatformRoutes routes = new PlatformRoutes(deps.vertx(), new OperatorRepository(deps.pg()), deps.sessions(),
        new LoginThrottle(deps.redis(), "wxmp:operator-login-failures:", 5, 900));
    Router router = Router.router(deps.vertx());
    router.post("/platform/login").handler(Respond.json(routes::login));
    router.post("/platform/logout").handler(Respond.noContent(routes::logout));
    return router;
  }

  /** Same rules as the merchants' login: the try is counted before the password is checked; 5 per 15 minutes. */
  Future<JsonObject> login(RoutingContext ctx) {
    Input in = Input.of(ctx);
    String username = in.string("username", 1, 64, true);
    String password = in.secret("password", 1, 256);
    in.validate();
    return throttle.takeTry(username)
        .compose(v -> operators.byUsername(username))
        .compose(op -> vertx.executeBlocking(
                () -> Passwords.matches(password, op == null || op.disabled() ? null : op.passwordHash()), false)
            .compose(ok -> ok ? throttle.reset(username).map(op)
                : Future.<OperatorRepository.Operator>failedFuture(
                    new ApiException(401, "unauthorized", "Wrong username or password."))))
        .compose(op -> sessions.issueOperator(new OperatorPrincipal(op.id(), op.username()))
            .map(token -> new JsonObject()
                .put("token", token)
                .put("expiresIn", sessions.operatorTtlSeconds())
                .put("operator", new JsonObject().put("id", Json.id(op.id())).put("username", op.username()))));
  }

  Future<Void> logout(RoutingContext ctx) {
    return sessions.revokeOperator(Authenticate.token(ctx));
  }
}

package io.wxmp.handlers.admin;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.common.MerchantPrincipal;
import io.wxmp.handlers.common.Respond;
import io.wxmp.handlers.common.Sessions;

/**
 * {@code POST /admin/login} and {@code /admin/logout}. The server puts {@link Authenticate#merchants} in front of
 * every {@code /admin/*} route but the login, once, so feature routers need not.
 */
public final class AdminAuthRoutes {
  private final MerchantAccountRepository accounts;
  private final Sessions sessions;
  private final LoginGuard guard;
  private final PasswordWork passwords;

  private AdminAuthRoutes(MerchantAccountRepository accounts, Sessions sessions, LoginGuard guard,
      PasswordWork passwords) {
    this.accounts = accounts;
    this.sessions = sessions;
    this.guard = guard;
    this.passwords = passwords;
  }

  public static Router create(Deps deps) {
    AdminAuthRoutes routes = new AdminAuthRoutes(new MerchantAccountRepository(deps.pg()), deps.sessions(),
        new LoginGuard(deps.vertx(), deps.redis(), deps.limits().clients(), "merchant", "/api/v1/admin/login",
            deps.limits().logins()),
        deps.limits().passwords());
    Router router = Router.router(deps.vertx());
    router.post("/admin/login").handler(Respond.json(routes::login));
    router.post("/admin/logout").handler(Respond.noContent(routes::logout));
    return router;
  }

  Future<JsonObject> login(RoutingContext ctx) {
    Input in = Input.of(ctx);
    String username = in.string("username", 1, 64, true);
    String password = in.secret("password", 1, 256);
    in.validate();
    // the try is counted before the password is checked (see LoginGuard), so a failure needs no second write
    return guard.begin(ctx, username).compose(attempt -> accounts.byUsername(username)
        .compose(account -> passwords.matches(password, account == null ? null : account.passwordHash())
            .compose(ok -> ok ? attempt.succeeded().map(account)
                : Future.<MerchantAccountRepository.Account>failedFuture(
                    new ApiException(401, "unauthorized", "Wrong username or password.")))))
        .compose(account -> {
          ApiException blocked = blocked(account);
          if (blocked != null) {
            return Future.failedFuture(blocked);
          }
          MerchantPrincipal principal = new MerchantPrincipal(account.id(), account.merchantId(), account.role(),
              account.mustChangePassword());
          return sessions.issueMerchant(principal)
              // a suspension or a disable that committed while the token was being made: its revocation may have
              // run before the token was indexed, so look again and take the token back
              .compose(token -> accounts.byId(account.id()).compose(now -> {
                ApiException late = blocked(now);
                return late == null ? Future.succeededFuture(token)
                    : sessions.revokeMerchant(token).compose(x -> Future.<String>failedFuture(late));
              }))
              .map(token -> new JsonObject()
                  .put("token", token)
                  .put("expiresIn", sessions.merchantTtlSeconds())
                  .put("merchant", new JsonObject().put("id", Json.id(account.merchantId()))
                      .put("name", account.merchantName()))
                  .put("role", account.role().wire())
                  .put("mustChangePassword", account.mustChangePassword()));
        });
  }

  /** Why a correct password still cannot log in, or null. */
  static ApiException blocked(MerchantAccountRepository.Account account) {
    if (account == null) {
      return new ApiException(401, "unauthorized", "Wrong username or password.");
    }
    if (account.merchantSuspended()) {
      return new ApiException(403, "merchant_suspended", "This merchant is suspended by the platform.");
    }
    if (account.disabled()) {
      return new ApiException(403, "account_disabled", "This account is disabled; ask the merchant's owner.");
    }
    return null;
  }

  Future<Void> logout(RoutingContext ctx) {
    return sessions.revokeMerchant(Authenticate.token(ctx));
  }
}

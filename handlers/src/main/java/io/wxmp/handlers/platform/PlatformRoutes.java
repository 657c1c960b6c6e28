package io.wxmp.handlers.platform;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.RedisAPI;
import io.wxmp.handlers.admin.LoginGuard;
import io.wxmp.handlers.admin.PasswordWork;
import io.wxmp.handlers.admin.MerchantAccountRepository;
import io.wxmp.handlers.admin.Passwords;
import io.wxmp.handlers.campaigns.Budgets;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.CatalogueGeneration;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.common.OperatorPrincipal;
import io.wxmp.handlers.common.Paging;
import io.wxmp.handlers.common.Respond;
import io.wxmp.handlers.common.Role;
import io.wxmp.handlers.common.Sessions;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code /platform/login}, {@code /platform/logout} and {@code /platform/merchants*} for operators. The server puts
 * {@link Authenticate#operators} in front of every {@code /platform/*} route but the login, so the feature routers
 * mounted there need not. Creating a merchant creates its owner account with a one-time password; suspending one
 * revokes its accounts' tokens at once (its items, quizzes and campaigns leave users' answers through the
 * {@code merchants.status} condition in their queries); reactivating restores all of it, since nothing is deleted.
 */
public final class PlatformRoutes {
  private static final List<String> STATUSES = List.of("active", "suspended");
  private final Vertx vertx;
  private final OperatorRepository operators;
  private final Sessions sessions;
  private final LoginGuard guard;
  private final PasswordWork passwords;
  private final MerchantRepository merchants;
  private final MerchantAccountRepository accounts;
  private final RedisAPI redis;

  private PlatformRoutes(Vertx vertx, OperatorRepository operators, Sessions sessions, LoginGuard guard, PasswordWork passwords,
      MerchantRepository merchants, MerchantAccountRepository accounts, RedisAPI redis) {
    this.vertx = vertx;
    this.operators = operators;
    this.sessions = sessions;
    this.guard = guard;
    this.passwords = passwords;
    this.merchants = merchants;
    this.accounts = accounts;
    this.redis = redis;
  }

  public static Router create(Deps deps) {
    PlatformRoutes routes = new PlatformRoutes(deps.vertx(), new OperatorRepository(deps.pg()), deps.sessions(),
        new LoginGuard(deps.vertx(), deps.redis(), deps.limits().clients(), "operator",
            "/api/v1/platform/login", deps.limits().logins()), deps.limits().passwords(), new MerchantRepository(deps.pg()),
        new MerchantAccountRepository(deps.pg()), deps.redis());
    Router router = Router.router(deps.vertx());
    router.post("/platform/login").handler(Respond.json(routes::login));
    router.post("/platform/logout").handler(Respond.noContent(routes::logout));
    router.post("/platform/merchants").handler(Respond.status(201, routes::createMerchant));
    router.get("/platform/merchants").handler(Respond.json(routes::listMerchants));
    router.get("/platform/merchants/:id").handler(Respond.json(routes::getMerchant));
    router.patch("/platform/merchants/:id").handler(Respond.json(routes::updateMerchant));
    return router;
  }

  /** Same rules as the merchants' login (see {@link LoginGuard}), in a realm of their own. */
  Future<JsonObject> login(RoutingContext ctx) {
    Input in = Input.of(ctx);
    String username = in.string("username", 1, 64, true);
    String password = in.secret("password", 1, 256);
    in.validate();
    return guard.begin(ctx, username).compose(attempt -> operators.byUsername(username)
        .compose(op -> passwords.matches(password, op == null || op.disabled() ? null : op.passwordHash())
            .compose(ok -> ok ? attempt.succeeded().map(op)
                : Future.<OperatorRepository.Operator>failedFuture(
                    new ApiException(401, "unauthorized", "Wrong username or password.")))))
        .compose(op -> sessions.issueOperator(new OperatorPrincipal(op.id(), op.username()))
            .map(token -> new JsonObject()
                .put("token", token)
                .put("expiresIn", sessions.operatorTtlSeconds())
                .put("operator", new JsonObject().put("id", Json.id(op.id())).put("username", op.username()))));
  }

  Future<Void> logout(RoutingContext ctx) {
    return sessions.revokeOperator(Authenticate.token(ctx));
  }

  Future<JsonObject> createMerchant(RoutingContext ctx) {
    Authenticate.operator(ctx);
    Input in = Input.of(ctx);
    String name = in.string("name", 1, 100, true);
    String owner = in.string("ownerUsername", 1, 64, true);
    in.check(owner == null || owner.matches("[A-Za-z0-9._@-]{1,64}"), "ownerUsername",
        "must be 1..64 letters, digits or . _ @ -");
    in.validate();
    Audit.Who who = Audit.who(ctx);
    String password = Passwords.oneTime();
    return passwords.hash(password)
        .compose(hash -> merchants.pool().withTransaction(tx -> merchants.insert(tx, name)
            .compose(merchantId -> accounts.insert(tx, merchantId, owner, hash, Role.OWNER).compose(accountId -> {
              if (accountId == null) {
                throw ApiException.conflict("username_taken", "This owner username is taken.");
              }
              return Audit.record(tx, who.forMerchant(merchantId), "merchant.create", "merchant", merchantId,
                      new JsonObject().put("name", new JsonObject().put("to", name))
                          .put("ownerUsername", new JsonObject().put("to", owner)))
                  .compose(v -> merchants.byId(tx, merchantId))
                  .map(m -> merchantJson(m).put("owner", new JsonObject().put("id", Json.id(accountId))
                      .put("username", owner).put("initialPassword", password)));
            }))));
  }

  Future<JsonObject> listMerchants(RoutingContext ctx) {
    Authenticate.operator(ctx);
    Paging paging = Paging.of(ctx);
    String status = ctx.queryParams().get("status");
    if (status != null && !STATUSES.contains(status)) {
      throw ApiException.invalid(new JsonObject().put("status", "must be active or suspended"));
    }
    return merchants.list(status, paging.beforeId(), paging.fetch())
        .map(list -> paging.page("items", list, MerchantRepository.Merchant::id, PlatformRoutes::merchantJson));
  }

  Future<JsonObject> getMerchant(RoutingContext ctx) {
    Authenticate.operator(ctx);
    return merchants.byId(merchants.pool(), Ids.path(ctx, "id")).map(m -> {
      if (m == null) {
        throw ApiException.notFound();
      }
      return merchantJson(m);
    });
  }

  /**
   * {@code {"status": "active|suspended"}}. Suspending commits first, then revokes every token of the merchant's
   * accounts (a login racing it looks at the status again after making its token, see AdminAuthRoutes).
   */
  Future<JsonObject> updateMerchant(RoutingContext ctx) {
    Authenticate.operator(ctx);
    long id = Ids.path(ctx, "id");
    Input in = Input.of(ctx);
    String status = in.oneOf("status", STATUSES, true);
    in.validate();
    Audit.Who who = Audit.who(ctx).forMerchant(id);
    // a suspension takes the merchant's items out of every feed page from its commit on (CatalogueGeneration)
    CatalogueGeneration catalogue = new CatalogueGeneration(redis);
    return (!"active".equals(status) ? catalogue.beginWrite() : Future.<Void>succeededFuture())
        .compose(held -> merchants.pool().withTransaction(tx -> merchants.lockStatus(tx, id).compose(before -> {
          if (before == null) {
            throw ApiException.notFound();
          }
          if (before.equals(status)) {
            return accounts.idsOfMerchant(tx, id);
          }
          return merchants.setStatus(tx, id, status)
              .compose(v -> Audit.record(tx, who, "merchant.status", "merchant", id,
                  new JsonObject().put("status", new JsonObject().put("from", before).put("to", status))))
              .compose(v -> accounts.idsOfMerchant(tx, id));
        })))
        .eventually(() -> !"active".equals(status) ? catalogue.endWrite() : Future.succeededFuture())
        // the merchant's campaigns leave (or come back to) every server's feed pages before the answer
        .compose(accountIds -> Budgets.changed(redis).recover(failure -> Future.succeededFuture()).map(accountIds))
        .compose(accountIds -> {
          if (!"suspended".equals(status)) {
            return Future.succeededFuture();
          }
          List<Future<Void>> revoked = new ArrayList<>();
          accountIds.forEach(a -> revoked.add(sessions.revokeAll(Sessions.Owner.MERCHANT_ACCOUNT, a, null)));
          return Future.all(revoked).mapEmpty();
        })
        .compose(v -> merchants.byId(merchants.pool(), id))
        .map(PlatformRoutes::merchantJson);
  }

  static JsonObject merchantJson(MerchantRepository.Merchant m) {
    return new JsonObject()
        .put("id", Json.id(m.id()))
        .put("name", m.name())
        .put("status", m.status())
        .put("accounts", m.accounts())
        .put("createdAt", Json.time(m.createdAt()))
        .put("statusChangedAt", Json.time(m.statusChangedAt()));
  }
}

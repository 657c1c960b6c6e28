package io.wxmp.handlers.admin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.common.MerchantPrincipal;
import io.wxmp.handlers.common.Paging;
import io.wxmp.handlers.common.RateLimiter;
import io.wxmp.handlers.common.Respond;
import io.wxmp.handlers.common.Role;
import io.wxmp.handlers.common.Sessions;
import java.util.List;

/**
 * {@code /admin/accounts*} (owner only: create with a one-time password, list, change role or disable) and
 * {@code POST /admin/password} (any account: the only route a token with a one-time password may call). Disabling an
 * account or changing its role revokes its tokens at once; a password change revokes every other token of the account.
 * A merchant always keeps one enabled owner.
 */
public final class AccountRoutes {
  static final String USERNAME = "[A-Za-z0-9._@-]{1,64}";
  private static final List<String> ROLES = List.of("owner", "editor", "analyst");

  private final Vertx vertx;
  private final MerchantAccountRepository accounts;
  private final Sessions sessions;
  private final RateLimiter passwordTries;
  private final PasswordWork passwords;

  private AccountRoutes(Vertx vertx, MerchantAccountRepository accounts, Sessions sessions, RateLimiter tries,
      PasswordWork passwords) {
    this.vertx = vertx;
    this.accounts = accounts;
    this.sessions = sessions;
    this.passwordTries = tries;
    this.passwords = passwords;
  }

  public static Router create(Deps deps) {
    AccountRoutes routes = new AccountRoutes(deps.vertx(), new MerchantAccountRepository(deps.pg()), deps.sessions(),
        // the caller holds the account's token already: one bucket per account is enough
        new RateLimiter(deps.vertx(), deps.redis(), "password-change",
            new RateLimiter.Limit(deps.limits().logins().perAccountAddress(), deps.limits().logins().window())),
        deps.limits().passwords());
    Router router = Router.router(deps.vertx());
    router.post("/admin/accounts").handler(Respond.status(201, routes::create));
    router.get("/admin/accounts").handler(Respond.json(routes::list));
    router.patch("/admin/accounts/:id").handler(Respond.json(routes::update));
    router.post("/admin/password").handler(Respond.noContent(routes::changePassword));
    return router;
  }

  Future<JsonObject> create(RoutingContext ctx) {
    MerchantPrincipal owner = Authenticate.merchant(ctx);
    owner.requireOwner();
    Input in = Input.of(ctx);
    String username = in.string("username", 1, 64, true);
    String role = in.oneOf("role", ROLES, true);
    in.check(username == null || username.matches(USERNAME), "username", "must be 1..64 letters, digits or . _ @ -");
    in.validate();
    Audit.Who who = Audit.who(ctx);
    String password = Passwords.oneTime();
    return passwords.hash(password)
        .compose(hash -> accounts.pool().withTransaction(tx -> accounts.insert(tx, owner.merchantId(), username, hash,
                Role.fromWire(role))
            .compose(id -> {
              if (id == null) {
                throw ApiException.conflict("username_taken", "This username is taken.");
              }
              return Audit.record(tx, who, "account.create", "account", id, new JsonObject()
                      .put("username", new JsonObject().put("to", username))
                      .put("role", new JsonObject().put("to", role)))
                  .compose(v -> accounts.byIdForMerchant(tx, id, owner.merchantId()));
            })))
        .map(account -> accountJson(account).put("initialPassword", password));
  }

  Future<JsonObject> list(RoutingContext ctx) {
    MerchantPrincipal owner = Authenticate.merchant(ctx);
    owner.requireOwner();
    Paging paging = Paging.of(ctx);
    return accounts.list(owner.merchantId(), paging.beforeId(), paging.fetch())
        .map(list -> paging.page("items", list, MerchantAccountRepository.Account::id, AccountRoutes::accountJson));
  }

  Future<JsonObject> update(RoutingContext ctx) {
    MerchantPrincipal owner = Authenticate.merchant(ctx);
    long id = Ids.path(ctx, "id");
    owner.requireOwner();
    Input in = Input.of(ctx);
    String role = in.oneOf("role", ROLES, false);
    Boolean disabled = in.bool("disabled", false);
    in.check(in.has("role") || in.has("disabled"), "role", "give role or disabled");
    in.validate();
    Audit.Who who = Audit.who(ctx);
    return accounts.pool().withTransaction(tx -> accounts.byIdForMerchant(tx, id, owner.merchantId())
            .compose(current -> {
              if (current == null) {
                throw ApiException.notFound();
              }
              Role newRole = role == null ? current.role() : Role.fromWire(role);
              boolean newDisabled = disabled == null ? current.disabled() : disabled;
              JsonObject before = new JsonObject().put("role", current.role().wire()).put("disabled", current.disabled());
              JsonObject after = new JsonObject().put("role", newRole.wire()).put("disabled", newDisabled);
              return accounts.update(tx, id, owner.merchantId(), newRole, newDisabled)
                  .compose(v -> accounts.enabledOwners(tx, owner.merchantId()))
                  .compose(owners -> {
                    if (owners == 0) {
                      throw ApiException.conflict("last_owner", "A merchant keeps at least one enabled owner.");
                    }
                    return Audit.record(tx, who, "account.update", "account", id, Audit.diff(before, after));
                  })
                  .compose(v -> accounts.byIdForMerchant(tx, id, owner.merchantId()))
                  .map(updated -> new Object[] {current, updated});
            }))
        .compose(pair -> {
          var current = (MerchantAccountRepository.Account) pair[0];
          var updated = (MerchantAccountRepository.Account) pair[1];
          // tokens carry the role, and a disabled account has none: either change ends its sessions at once
          boolean revoke = updated.disabled() || updated.role() != current.role();
          return (revoke ? sessions.revokeAll(Sessions.Owner.MERCHANT_ACCOUNT, id, null) : Future.<Void>succeededFuture())
              .map(v -> accountJson(updated));
        });
  }

  /** Checks the current password (tries limited like logins), stores the new one, revokes the account's other tokens. */
  Future<Void> changePassword(RoutingContext ctx) {
    MerchantPrincipal me = Authenticate.merchant(ctx);
    Input in = Input.of(ctx);
    String current = in.secret("current", 1, 256);
    String next = in.secret("new", Passwords.MIN_LENGTH, 256);
    in.check(current == null || next == null || !current.equals(next), "new", "must differ from the current password");
    in.validate();
    Audit.Who who = Audit.who(ctx);
    String token = Authenticate.token(ctx);
    String throttleKey = Long.toString(me.accountId());
    return passwordTries.acquire(throttleKey)
        .compose(v -> accounts.byId(me.accountId()))
        .compose(account -> passwords.run(() -> {
          if (!Passwords.matches(current, account == null ? null : account.passwordHash())) {
            return null;
          }
          return Passwords.hash(next);
        }))
        .compose(hash -> {
          if (hash == null) {
            return Future.failedFuture(ApiException.invalid(new JsonObject().put("current", "is not the password")));
          }
          return passwordTries.reset(throttleKey)
              .compose(v -> accounts.pool().withTransaction(tx -> accounts.setPassword(tx, me.accountId(), hash)
                  .compose(x -> Audit.record(tx, who, "account.password", "account", me.accountId(), null))));
        })
        .compose(v -> sessions.revokeAll(Sessions.Owner.MERCHANT_ACCOUNT, me.accountId(), token))
        .compose(v -> sessions.replaceMerchant(token, new MerchantPrincipal(me.accountId(), me.merchantId(),
            me.role(), false)));
  }

  static JsonObject accountJson(MerchantAccountRepository.Account a) {
    return new JsonObject()
        .put("id", Json.id(a.id()))
        .put("username", a.username())
        .put("role", a.role().wire())
        .put("disabled", a.disabled())
        .put("mustChangePassword", a.mustChangePassword())
        .put("createdAt", Json.time(a.createdAt()));
  }
}

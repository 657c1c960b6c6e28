package io.wxmp.handlers.common;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Route handlers that resolve the bearer token into a principal (401 otherwise) and helpers to read it back.
 * Mount {@link #users} in front of user routes, {@link #merchants} in front of every admin route and
 * {@link #operators} in front of every platform route.
 */
public final class Authenticate {
  private static final String USER = "wxmp.user";
  private static final String MERCHANT = "wxmp.merchant";
  private static final String OPERATOR = "wxmp.operator";
  private static final String TOKEN = "wxmp.token";

  private Authenticate() {}

  public static Handler<RoutingContext> users(Sessions sessions) {
    return ctx -> {
      String token = bearer(ctx);
      sessions.user(token).onComplete(result -> {
        if (result.succeeded()) {
          ctx.put(USER, result.result());
          ctx.put(TOKEN, token);
          ctx.next();
        } else {
          ctx.fail(result.cause());
        }
      });
    };
  }

  /**
   * Merchant tokens. A token whose account must still change its one-time password opens only
   * {@code POST /admin/password} and {@code /admin/logout} (403 {@code password_change_required} elsewhere).
   */
  public static Handler<RoutingContext> merchants(Sessions sessions) {
    return ctx -> {
      String token = bearer(ctx);
      sessions.merchant(token).onComplete(result -> {
        if (result.failed()) {
          ctx.fail(result.cause());
          return;
        }
        MerchantPrincipal merchant = result.result();
        String path = ctx.request().path();
        if (merchant.mustChangePassword() && !path.endsWith("/admin/password") && !path.endsWith("/admin/logout")) {
          ctx.fail(new ApiException(403, "password_change_required",
              "Change the one-time password first (POST /admin/password)."));
          return;
        }
        ctx.put(MERCHANT, merchant);
        ctx.put(TOKEN, token);
        ctx.next();
      });
    };
  }

  public static Handler<RoutingContext> operators(Sessions sessions) {
    return ctx -> {
      String token = bearer(ctx);
      sessions.operator(token).onComplete(result -> {
        if (result.succeeded()) {
          ctx.put(OPERATOR, result.result());
          ctx.put(TOKEN, token);
          ctx.next();
        } else {
          ctx.fail(result.cause());
        }
      });
    };
  }

  public static UserPrincipal user(RoutingContext ctx) {
    UserPrincipal user = ctx.get(USER);
    if (user == null) {
      throw ApiException.unauthorized();
    }
    return user;
  }

  public static MerchantPrincipal merchant(RoutingContext ctx) {
    MerchantPrincipal merchant = ctx.get(MERCHANT);
    if (merchant == null) {
      throw ApiException.unauthorized();
    }
    return merchant;
  }

  /** The merchant principal when the request carries a merchant token, else null. */
  public static MerchantPrincipal merchantOrNull(RoutingContext ctx) {
    return ctx.get(MERCHANT);
  }

  public static OperatorPrincipal operator(RoutingContext ctx) {
    OperatorPrincipal operator = ctx.get(OPERATOR);
    if (operator == null) {
      throw ApiException.unauthorized();
    }
    return operator;
  }

  public static String token(RoutingContext ctx) {
    return ctx.get(TOKEN);
  }

  /** For a route that authenticates itself (GET /me): what {@link #users} would have put. */
  public static void remember(RoutingContext ctx, UserPrincipal user, String token) {
    ctx.put(USER, user);
    ctx.put(TOKEN, token);
  }

  /** The bearer token of the request, or null. */
  public static String bearer(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    return header.substring(7).trim();
  }
}

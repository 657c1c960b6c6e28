package io.wxmp.handlers.common;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Route handlers that resolve the bearer token into a principal (401 otherwise) and helpers to read it back.
 * Mount {@link #users} in front of user routes and {@link #merchants} in front of every admin route.
 */
public final class Authenticate {
  private static final String USER = "wxmp.user";
  private static final String MERCHANT = "wxmp.merchant";
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

  public static Handler<RoutingContext> merchants(Sessions sessions) {
    return ctx -> {
      String token = bearer(ctx);
      sessions.merchant(token).onComplete(result -> {
        if (result.succeeded()) {
          ctx.put(MERCHANT, result.result());
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

  public static String token(RoutingContext ctx) {
    return ctx.get(TOKEN);
  }

  private static String bearer(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    return header.substring(7).trim();
  }
}

package io.wxmp.handlers.common;

import io.vertx.ext.web.RoutingContext;

/** IDs travel as strings of digits; a path id that is not one names no resource (404). */
public final class Ids {
  private Ids() {}

  public static Long parseOrNull(String text) {
    if (text == null || text.isEmpty() || text.length() > 18) {
      return null;
    }
    for (int i = 0; i < text.length(); i++) {
      if (!Character.isDigit(text.charAt(i)) || text.charAt(i) > '9') {
        return null;
      }
    }
    return Long.parseLong(text);
  }

  public static long path(RoutingContext ctx, String name) {
    Long id = parseOrNull(ctx.pathParam(name));
    if (id == null) {
      throw ApiException.notFound();
    }
    return id;
  }
}

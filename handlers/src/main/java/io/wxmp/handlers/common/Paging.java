package io.wxmp.handlers.common;

import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** API.md paging: {@code ?limit=} (default 20, 1..50) and an opaque cursor that the server made. */
public record Paging(int limit, String cursor) {
  public static Paging of(RoutingContext ctx) {
    String rawLimit = ctx.queryParams().get("limit");
    int limit = 20;
    if (rawLimit != null) {
      Long parsed = Ids.parseOrNull(rawLimit);
      if (parsed == null || parsed < 1 || parsed > 50) {
        throw ApiException.invalid(new io.vertx.core.json.JsonObject().put("limit", "must be 1..50"));
      }
      limit = parsed.intValue();
    }
    String cursor = ctx.queryParams().get("cursor");
    return new Paging(limit, cursor == null || cursor.isEmpty() ? null : decode(cursor));
  }

  public static String encode(String position) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(position.getBytes(StandardCharsets.UTF_8));
  }

  private static String decode(String cursor) {
    try {
      return new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw ApiException.invalid(new io.vertx.core.json.JsonObject().put("cursor", "is not a cursor this server made"));
    }
  }

  /** A cursor position of the form {@code <long>}, for lists ordered by id descending. */
  public Long beforeId() {
    if (cursor == null) {
      return null;
    }
    Long id = Ids.parseOrNull(cursor);
    if (id == null) {
      throw ApiException.invalid(new io.vertx.core.json.JsonObject().put("cursor", "is not a cursor this server made"));
    }
    return id;
  }
}

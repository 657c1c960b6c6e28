package io.wxmp.handlers.common;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/** API.md paging: {@code ?limit=} (default 20, 1..50) and an opaque cursor that the server made. */
public record Paging(int limit, String cursor) {
  public static Paging of(RoutingContext ctx) {
    String rawLimit = ctx.queryParams().get("limit");
    int limit = 20;
    if (rawLimit != null) {
      Long parsed = Ids.parseOrNull(rawLimit);
      if (parsed == null || parsed < 1 || parsed > 50) {
        throw ApiException.invalid(new JsonObject().put("limit", "must be 1..50"));
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
      throw ApiException.invalid(new JsonObject().put("cursor", "is not a cursor this server made"));
    }
  }

  /** How many rows to fetch: one more than the page, so {@link #page} can tell whether another page follows. */
  public int fetch() {
    return limit + 1;
  }

  /**
   * A page of rows fetched with {@link #fetch()} and ordered by id descending: {@code {"<field>": [...],
   * "nextCursor"}}, the cursor pointing after the last row shown, null on the last page.
   */
  public <T> JsonObject page(String field, List<T> rows, ToLongFunction<T> id, Function<T, JsonObject> view) {
    boolean more = rows.size() > limit;
    List<T> shown = more ? rows.subList(0, limit) : rows;
    JsonArray out = new JsonArray();
    shown.forEach(row -> out.add(view.apply(row)));
    return new JsonObject().put(field, out)
        .put("nextCursor", more ? encode(Long.toString(id.applyAsLong(shown.get(shown.size() - 1)))) : null);
  }

  /** A cursor position of the form {@code <long>}, for lists ordered by id descending. */
  public Long beforeId() {
    if (cursor == null) {
      return null;
    }
    Long id = Ids.parseOrNull(cursor);
    if (id == null) {
      throw ApiException.invalid(new JsonObject().put("cursor", "is not a cursor this server made"));
    }
    return id;
  }
}

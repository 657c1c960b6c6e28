package io.wxmp.handlers.feed;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.wxmp.handlers.common.Json;
import java.util.Set;

/** API.md's FeedItem and Reason. */
final class FeedItems {
  private FeedItems() {}

  /** Why an item is in a feed; {@code becauseOf} only for similar, {@code tag} only for popular_with_tag. */
  record Reason(String kind, CatalogueItem becauseOf, String tag) {
    static final Reason TRENDING = new Reason("trending", null, null);
    static final Reason NEW = new Reason("new", null, null);
    static final Reason EXPLORE = new Reason("explore", null, null);
    static final Reason SPONSORED = new Reason("sponsored", null, null);

    JsonObject toJson() {
      return new JsonObject().put("kind", kind)
          .put("becauseOf", becauseOf == null ? null
              : new JsonObject().put("itemId", Json.id(becauseOf.id())).put("title", becauseOf.title()))
          .put("tag", tag);
    }

    /** What {@link #toJson()}{@code .encode()} writes. */
    void write(StringBuilder out) {
      JsonText.string(JsonText.name(out.append('{'), "kind"), kind);
      JsonText.name(out.append(','), "becauseOf");
      if (becauseOf == null) {
        out.append("null");
      } else {
        JsonText.name(out.append('{'), "itemId").append('"').append(becauseOf.id()).append('"');
        JsonText.string(JsonText.name(out.append(','), "title"), becauseOf.title()).append('}');
      }
      JsonText.string(JsonText.name(out.append(','), "tag"), tag).append('}');
    }
  }

  /** Locked unless free, or opened by a running membership of its merchant (membership items themselves stay locked). */
  static boolean locked(CatalogueItem item, Set<Long> owned, Set<Long> memberOf) {
    if (item.priceFen() == null || owned.contains(item.id())) {
      return false;
    }
    return !(memberOf.contains(item.merchantId()) && !"membership".equals(item.kind()));
  }

  static JsonObject json(CatalogueItem item, boolean locked, String campaignId, Reason reason, String token) {
    JsonObject out = new JsonObject()
        .put("id", Json.id(item.id()))
        .put("kind", item.kind())
        .put("title", item.title())
        .put("summary", item.summary())
        .put("coverUrl", item.coverUrl())
        .put("tags", new JsonArray(item.tags()))
        .put("price", Json.money(item.priceFen()))
        .put("locked", locked)
        .put("sponsored", campaignId != null)
        .put("campaignId", campaignId)
        .put("reason", reason == null ? null : reason.toJson());
    if (token != null) {
      out.put("token", token);
    }
    return out;
  }

  /** What {@link #json}{@code (...).encode()} writes, appended to {@code out}. */
  static void write(StringBuilder out, CatalogueItem item, boolean locked, String campaignId, Reason reason,
      String token) {
    JsonText.name(out.append('{'), "id").append('"').append(item.id()).append('"');
    JsonText.string(JsonText.name(out.append(','), "kind"), item.kind());
    JsonText.string(JsonText.name(out.append(','), "title"), item.title());
    JsonText.string(JsonText.name(out.append(','), "summary"), item.summary());
    JsonText.string(JsonText.name(out.append(','), "coverUrl"), item.coverUrl());
    JsonText.name(out.append(','), "tags").append('[');
    for (int i = 0; i < item.tags().size(); i++) {
      JsonText.string(i == 0 ? out : out.append(','), item.tags().get(i));
    }
    JsonText.name(out.append("],"), "price");
    if (item.priceFen() == null) {
      out.append("null");
    } else {
      out.append("{\"amount\":").append(item.priceFen().longValue()).append(",\"currency\":\"CNY\"}");
    }
    JsonText.name(out.append(','), "locked").append(locked);
    JsonText.name(out.append(','), "sponsored").append(campaignId != null);
    JsonText.string(JsonText.name(out.append(','), "campaignId"), campaignId);
    JsonText.name(out.append(','), "reason");
    if (reason == null) {
      out.append("null");
    } else {
      reason.write(out);
    }
    if (token != null) {
      JsonText.string(JsonText.name(out.append(','), "token"), token);
    }
    out.append('}');
  }
}

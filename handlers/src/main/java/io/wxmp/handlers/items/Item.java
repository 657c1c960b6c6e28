package io.wxmp.handlers.items;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.wxmp.handlers.common.Json;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;

/** One item a merchant publishes: an article, course, product, quiz or membership; free when {@code priceFen} is null. */
public record Item(long id, long merchantId, String kind, String title, String summary, String body, String preview,
    String coverUrl, List<String> tags, Long priceFen, Integer membershipDays, String status,
    OffsetDateTime createdAt, OffsetDateTime updatedAt) {

  public static final List<String> KINDS = List.of("article", "course", "product", "membership", "quiz");
  public static final List<String> STATUSES = List.of("draft", "published", "archived");

  static Item of(Row r) {
    String[] tags = r.getArrayOfStrings("tags");
    return new Item(r.getLong("id"), r.getLong("merchant_id"), r.getString("kind"), r.getString("title"),
        r.getString("summary"), r.getString("body"), r.getString("preview"), r.getString("cover_url"),
        tags == null ? List.of() : Arrays.asList(tags), r.getLong("price_fen"), r.getInteger("membership_days"),
        r.getString("status"), r.getOffsetDateTime("created_at"), r.getOffsetDateTime("updated_at"));
  }

  public boolean free() {
    return priceFen == null;
  }

  public JsonObject toAdminJson() {
    return new JsonObject()
        .put("id", Json.id(id))
        .put("kind", kind)
        .put("title", title)
        .put("summary", summary)
        .put("body", body)
        .put("preview", preview)
        .put("coverUrl", coverUrl)
        .put("tags", new JsonArray(tags))
        .put("price", Json.money(priceFen))
        .put("membershipDays", membershipDays)
        .put("status", status)
        .put("createdAt", Json.time(createdAt))
        .put("updatedAt", Json.time(updatedAt));
  }

  /** What the audit log compares: the merchant's view without ids and times. */
  public JsonObject auditJson() {
    JsonObject json = toAdminJson();
    json.remove("id");
    json.remove("createdAt");
    json.remove("updatedAt");
    return json;
  }

  /** The user's view (API.md Item): the body only when the item is free or the user has it. */
  public JsonObject toUserJson(boolean unlocked) {
    boolean locked = !free() && !unlocked;
    return new JsonObject()
        .put("id", Json.id(id))
        .put("kind", kind)
        .put("title", title)
        .put("summary", summary)
        .put("coverUrl", coverUrl)
        .put("tags", new JsonArray(tags))
        .put("price", Json.money(priceFen))
        .put("membershipDays", membershipDays)
        .put("locked", locked)
        .put("sponsored", false)
        .put("campaignId", null)
        .put("preview", preview)
        .put("body", locked ? null : body);
  }
}

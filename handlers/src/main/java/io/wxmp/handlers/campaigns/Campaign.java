package io.wxmp.handlers.campaigns;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.wxmp.handlers.common.Json;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * One merchant's campaign promoting one of its items in the feed. Money is fen on the wire and millifen (1/1000 fen)
 * in the ledger: a CPM bid of {@code bidFen} costs {@code bidFen} millifen per impression, a CPC bid
 * {@code bidFen * 1000} millifen per click.
 */
public record Campaign(long id, long merchantId, long itemId, String name, List<String> targetTags,
    boolean newUsersOnly, String bidModel, long bidFen, long budgetTotalFen, long budgetDailyFen,
    Integer capImpressions, Integer capPerHours, OffsetDateTime startAt, OffsetDateTime endAt, String status,
    long spentMillifen, long impressions, long clicks, OffsetDateTime createdAt, OffsetDateTime updatedAt) {

  public static final List<String> STATUSES = List.of("draft", "active", "paused", "ended");
  public static final List<String> BID_MODELS = List.of("cpm", "cpc");
  public static final long MILLIFEN_PER_FEN = 1000;

  static final String COLUMNS = """
      id, merchant_id, item_id, name, target_tags, new_users_only, bid_model, bid_fen, budget_total_fen,
      budget_daily_fen, cap_impressions, cap_per_hours, start_at, end_at, status, spent_millifen, impressions, clicks,
      created_at, updated_at""";

  static Campaign of(Row r) {
    String[] tags = r.getArrayOfStrings("target_tags");
    return new Campaign(r.getLong("id"), r.getLong("merchant_id"), r.getLong("item_id"), r.getString("name"),
        tags == null ? List.of() : Arrays.asList(tags), r.getBoolean("new_users_only"), r.getString("bid_model"),
        r.getLong("bid_fen"), r.getLong("budget_total_fen"), r.getLong("budget_daily_fen"),
        r.getInteger("cap_impressions"), r.getInteger("cap_per_hours"), r.getOffsetDateTime("start_at"),
        r.getOffsetDateTime("end_at"), r.getString("status"), r.getLong("spent_millifen"), r.getLong("impressions"),
        r.getLong("clicks"), r.getOffsetDateTime("created_at"), r.getOffsetDateTime("updated_at"));
  }

  public boolean cpm() {
    return "cpm".equals(bidModel);
  }

  /** What one event of this type costs under the bid, in millifen (0 for the type the model does not charge). */
  public long costMillifen(String eventType) {
    if (cpm()) {
      return "impression".equals(eventType) ? bidFen : 0;
    }
    return "click".equals(eventType) ? bidFen * MILLIFEN_PER_FEN : 0;
  }

  /** The amount a served slot reserves: one impression for CPM, one click for CPC. */
  public long slotReservationMillifen() {
    return cpm() ? bidFen : bidFen * MILLIFEN_PER_FEN;
  }

  public boolean hasCap() {
    return capImpressions != null && capPerHours != null;
  }

  public boolean runsAt(Instant now) {
    return "active".equals(status) && !startAt.toInstant().isAfter(now)
        && (endAt == null || endAt.toInstant().isAfter(now));
  }

  /** Whether the targeting lets this user see the campaign; with personalisation off only {@code newUsersOnly}. */
  public boolean targets(boolean personalised, Set<String> interestTags, Instant joinedAt, Instant now) {
    if (newUsersOnly && (joinedAt == null || joinedAt.isBefore(now.minus(java.time.Duration.ofDays(7))))) {
      return false;
    }
    if (targetTags.isEmpty()) {
      return true;
    }
    if (!personalised || interestTags == null) {
      return false;
    }
    for (String tag : targetTags) {
      if (interestTags.contains(tag)) {
        return true;
      }
    }
    return false;
  }

  public static long fen(long millifen) {
    return Math.floorDiv(millifen, MILLIFEN_PER_FEN);
  }

  public JsonObject toAdminJson() {
    JsonObject cap = capImpressions == null ? null
        : new JsonObject().put("impressions", capImpressions).put("perHours", capPerHours);
    return new JsonObject()
        .put("id", Json.id(id))
        .put("name", name)
        .put("itemId", Json.id(itemId))
        .put("targeting", new JsonObject().put("tags", new JsonArray(targetTags)).put("newUsersOnly", newUsersOnly))
        .put("bid", new JsonObject().put("model", bidModel).put("amount", bidFen))
        .put("budget", new JsonObject().put("total", budgetTotalFen).put("daily", budgetDailyFen))
        .put("frequencyCap", cap)
        .put("startAt", Json.time(startAt))
        .put("endAt", Json.time(endAt))
        .put("status", status)
        .put("spend", fen(spentMillifen))
        .put("remainingBudget", Math.max(0, budgetTotalFen - fen(spentMillifen)))
        .put("createdAt", Json.time(createdAt))
        .put("updatedAt", Json.time(updatedAt));
  }
}

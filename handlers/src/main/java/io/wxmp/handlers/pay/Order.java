package io.wxmp.handlers.pay;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.wxmp.handlers.common.Json;
import java.time.OffsetDateTime;

/** One order row, with the kind of item it buys. */
public record Order(long id, String outTradeNo, long userId, long itemId, long merchantId, long amountFen,
    String status, String reviewReason, String prepayId, JsonObject payParams, String transactionId,
    long refundedFen, OffsetDateTime expiresAt, OffsetDateTime paidAt, OffsetDateTime createdAt,
    String itemKind, Integer membershipDays) {

  static Order of(Row r) {
    return new Order(r.getLong("id"), r.getString("out_trade_no"), r.getLong("user_id"), r.getLong("item_id"),
        r.getLong("merchant_id"), r.getLong("amount_fen"), r.getString("status"), r.getString("review_reason"),
        r.getString("prepay_id"), r.getJsonObject("pay_params"), r.getString("transaction_id"),
        r.getLong("refunded_fen"), r.getOffsetDateTime("expires_at"), r.getOffsetDateTime("paid_at"),
        r.getOffsetDateTime("created_at"), r.getString("item_kind"), r.getInteger("membership_days"));
  }

  /** The user's view (API.md {@code GET /orders/{id}}). */
  public JsonObject toJson() {
    return new JsonObject()
        .put("id", Json.id(id))
        .put("status", status)
        .put("itemId", Json.id(itemId))
        .put("amount", Json.money(amountFen))
        .put("createdAt", Json.time(createdAt))
        .put("paidAt", Json.time(paidAt));
  }

  /** The merchant's view adds what a person needs to follow the money. */
  public JsonObject toAdminJson() {
    return toJson()
        .put("userId", Json.id(userId))
        .put("outTradeNo", outTradeNo)
        .put("transactionId", transactionId)
        .put("refunded", Json.money(refundedFen))
        .put("review", reviewReason);
  }
}

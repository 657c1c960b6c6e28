package io.wxmp.handlers.pay;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * SQL for orders, the notifies we applied, entitlements, memberships, refunds and the outbox. Every state change is a
 * conditional update that says which states it moves from, so a repeat changes nothing.
 */
public final class OrderRepository {
  private static final String COLUMNS = """
      o.id, o.out_trade_no, o.user_id, o.item_id, o.merchant_id, o.amount_fen, o.status, o.review_reason,
      o.prepay_id, o.pay_params, o.transaction_id, o.refunded_fen, o.expires_at, o.paid_at, o.created_at,
      i.kind AS item_kind, i.membership_days""";
  private static final String FROM = " FROM orders o JOIN items i ON i.id = o.item_id ";

  private static final String INSERT = """
      WITH o AS (
        INSERT INTO orders (out_trade_no, user_id, item_id, merchant_id, amount_fen, idempotency_key, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, now() + $7::int * interval '1 second')
        ON CONFLICT DO NOTHING
        RETURNING *)
      SELECT\s""" + COLUMNS + " FROM o JOIN items i ON i.id = o.item_id";
  private static final String BY_IDEMPOTENCY_KEY = "SELECT " + COLUMNS + FROM
      + "WHERE o.user_id = $1 AND o.idempotency_key = $2";
  private static final String PENDING_FOR_ITEM = "SELECT " + COLUMNS + FROM
      + "WHERE o.user_id = $1 AND o.item_id = $2 AND o.status = 'pending' AND o.review_reason IS NULL";
  private static final String BY_ID_FOR_USER = "SELECT " + COLUMNS + FROM + "WHERE o.id = $1 AND o.user_id = $2";
  private static final String BY_ID_FOR_MERCHANT = "SELECT " + COLUMNS + FROM
      + "WHERE o.id = $1 AND o.merchant_id = $2";
  private static final String LIST_FOR_USER = "SELECT " + COLUMNS + FROM
      + "WHERE o.user_id = $1 AND ($2::bigint IS NULL OR o.id < $2) ORDER BY o.id DESC LIMIT $3";
  private static final String LIST_FOR_MERCHANT = "SELECT " + COLUMNS + FROM
      + "WHERE o.merchant_id = $1 AND ($2::text IS NULL OR o.status = $2) AND ($3::bigint IS NULL OR o.id < $3)"
      + " ORDER BY o.id DESC LIMIT $4";
  private static final String LOCK_BY_OUT_TRADE_NO = "SELECT " + COLUMNS + FROM
      + "WHERE o.out_trade_no = $1 FOR UPDATE OF o";
  private static final String SET_PREPAY = """
      UPDATE orders SET prepay_id = $2, pay_params = $3, updated_at = now() WHERE id = $1 RETURNING status""";
  private static final String CLOSE_UNPREPAID = """
      UPDATE orders SET status = 'closed', closed_at = now(), updated_at = now()
      WHERE id = $1 AND status = 'pending' AND prepay_id IS NULL""";

  private static final String RECORD_NOTIFY = """
      INSERT INTO pay_notifications (id, event_type, out_trade_no) VALUES ($1, $2, $3)
      ON CONFLICT (id) DO NOTHING RETURNING id""";
  private static final String NOTE_OUTCOME = "UPDATE pay_notifications SET outcome = $2 WHERE id = $1";

  /** Closed counts too: WeChat Pay took the money after we gave up waiting, so the user gets what they paid for. */
  private static final String MARK_PAID = """
      UPDATE orders SET status = 'paid', paid_at = COALESCE($2, now()), transaction_id = $3, updated_at = now()
      WHERE id = $1 AND status IN ('pending', 'closed') AND review_reason IS NULL
      RETURNING id""";
  private static final String MARK_REVIEW = """
      UPDATE orders SET review_reason = $2, transaction_id = COALESCE(transaction_id, $3), updated_at = now()
      WHERE id = $1 AND status IN ('pending', 'closed') AND review_reason IS NULL
      RETURNING id""";
  private static final String CLOSE_EXPIRED = """
      UPDATE orders SET status = 'closed', closed_at = now(), updated_at = now()
      WHERE id = $1 AND status = 'pending' AND review_reason IS NULL AND expires_at <= now()
      RETURNING id""";
  private static final String GRANT = """
      INSERT INTO entitlements (user_id, item_id, order_id) VALUES ($1, $2, $3)
      ON CONFLICT (user_id, item_id) DO UPDATE
        SET order_id = EXCLUDED.order_id, granted_at = now(), revoked_at = NULL
        WHERE entitlements.revoked_at IS NOT NULL""";
  private static final String EXTEND_MEMBERSHIP = """
      INSERT INTO memberships (user_id, merchant_id, member_until) VALUES ($1, $2, now() + make_interval(days => $3))
      ON CONFLICT (user_id, merchant_id) DO UPDATE
        SET member_until = GREATEST(memberships.member_until, now()) + make_interval(days => $3)""";
  /**
   * A fully refunded order takes its grant away, unless the user paid for the same item with another order (two
   * orders paid for one item): then the grant moves to that order.
   */
  private static final String REVOKE = """
      WITH alt AS (
        SELECT o.id FROM orders o
        WHERE o.user_id = $2 AND o.item_id = $3 AND o.id <> $1
          AND o.status IN ('paid', 'refunding', 'refunded') AND o.refunded_fen < o.amount_fen
        ORDER BY o.id LIMIT 1)
      UPDATE entitlements e SET order_id = COALESCE((SELECT id FROM alt), e.order_id),
             revoked_at = CASE WHEN EXISTS (SELECT 1 FROM alt) THEN NULL ELSE now() END
      WHERE e.order_id = $1 AND e.revoked_at IS NULL""";
  private static final String SHORTEN_MEMBERSHIP = """
      UPDATE memberships SET member_until = member_until - make_interval(days => $3)
      WHERE user_id = $1 AND merchant_id = $2""";
  private static final String OUTBOX = "INSERT INTO outbox (topic, payload) VALUES ($1, $2)";

  private static final String START_REFUND = """
      UPDATE orders SET status = 'refunding', updated_at = now()
      WHERE id = $1 AND merchant_id = $2 AND status IN ('paid', 'refunded') AND review_reason IS NULL
        AND refunded_fen + $3 <= amount_fen
      RETURNING id""";
  private static final String INSERT_REFUND = """
      INSERT INTO refunds (order_id, out_refund_no, amount_fen, reason, requested_by) VALUES ($1, $2, $3, $4, $5)""";
  private static final String LOCK_REFUND = """
      SELECT r.id AS refund_id, r.amount_fen AS refund_fen, r.status AS refund_status, o.id AS order_id
      FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.out_refund_no = $1 FOR UPDATE OF r, o""";
  private static final String FINISH_REFUND = """
      UPDATE refunds SET status = $2, refund_id = COALESCE($3, refund_id), settled_at = now()
      WHERE id = $1 AND status = 'processing' RETURNING amount_fen""";
  private static final String ORDER_REFUNDED = """
      UPDATE orders SET refunded_fen = refunded_fen + $2, status = 'refunded', updated_at = now()
      WHERE id = $1 AND status = 'refunding' RETURNING refunded_fen = amount_fen AS full""";
  /** A refund that did not happen puts the order back where it was before it. */
  private static final String ORDER_REFUND_UNDONE = """
      UPDATE orders SET status = CASE WHEN refunded_fen > 0 THEN 'refunded' ELSE 'paid' END, updated_at = now()
      WHERE id = $1 AND status = 'refunding'""";

  private static final String PENDING_TO_RECONCILE = """
      SELECT id, out_trade_no FROM orders
      WHERE status = 'pending' AND review_reason IS NULL AND created_at < now() - $1::int * interval '1 second'
      ORDER BY id LIMIT $2""";
  private static final String REFUNDS_TO_RECONCILE = """
      SELECT out_refund_no FROM refunds
      WHERE status = 'processing' AND created_at < now() - $1::int * interval '1 second' ORDER BY id LIMIT $2""";

  private final Pool pg;

  public OrderRepository(Pool pg) {
    this.pg = pg;
  }

  public Pool pool() {
    return pg;
  }

  public record NewOrder(String outTradeNo, long userId, long itemId, long merchantId, long amountFen,
      String idempotencyKey, int ttlSec) {}

  /** The new order, or null when the user already has an order with this idempotency key. */
  public Future<Order> insert(NewOrder o) {
    return pg.preparedQuery(INSERT).execute(Tuple.tuple().addValue(o.outTradeNo()).addValue(o.userId())
            .addValue(o.itemId()).addValue(o.merchantId()).addValue(o.amountFen()).addValue(o.idempotencyKey())
            .addValue(o.ttlSec()))
        .map(OrderRepository::first);
  }

  /** The user's payable order for the item, if any (at most one: a unique index says so). */
  public Future<Order> pendingForItem(long userId, long itemId) {
    return pg.preparedQuery(PENDING_FOR_ITEM).execute(Tuple.of(userId, itemId)).map(OrderRepository::first);
  }

  public Future<Order> byIdempotencyKey(long userId, String key) {
    return pg.preparedQuery(BY_IDEMPOTENCY_KEY).execute(Tuple.of(userId, key)).map(OrderRepository::first);
  }

  public Future<Order> byIdForUser(long id, long userId) {
    return pg.preparedQuery(BY_ID_FOR_USER).execute(Tuple.of(id, userId)).map(OrderRepository::first);
  }

  public Future<Order> byIdForMerchant(long id, long merchantId) {
    return pg.preparedQuery(BY_ID_FOR_MERCHANT).execute(Tuple.of(id, merchantId)).map(OrderRepository::first);
  }

  public Future<List<Order>> listForUser(long userId, Long beforeId, int limit) {
    return pg.preparedQuery(LIST_FOR_USER).execute(Tuple.of(userId, beforeId, limit)).map(OrderRepository::all);
  }

  public Future<List<Order>> listForMerchant(long merchantId, String status, Long beforeId, int limit) {
    return pg.preparedQuery(LIST_FOR_MERCHANT).execute(Tuple.of(merchantId, status, beforeId, limit))
        .map(OrderRepository::all);
  }

  /** Stores what prepay answered; the status comes back because a notify may already have settled the order. */
  public Future<String> setPrepay(long id, String prepayId, JsonObject payParams) {
    return pg.preparedQuery(SET_PREPAY).execute(Tuple.of(id, prepayId, payParams))
        .map(rows -> rows.iterator().next().getString(0));
  }

  /** WeChat Pay refused the prepay, so no one can pay this order: close it. */
  public Future<Void> closeUnprepaid(long id) {
    return pg.preparedQuery(CLOSE_UNPREPAID).execute(Tuple.of(id)).mapEmpty();
  }

  // ---- inside a settlement transaction (the caller passes the transaction's client) ----

  /** True when this notify id is new; false when it was applied before (or is being applied right now). */
  Future<Boolean> recordNotify(SqlClient tx, String notifyId, String eventType, String outTradeNo) {
    if (notifyId == null) {
      return Future.succeededFuture(true);
    }
    return tx.preparedQuery(RECORD_NOTIFY).execute(Tuple.of(notifyId, eventType, outTradeNo))
        .map(rows -> rows.rowCount() == 1);
  }

  Future<Void> noteOutcome(SqlClient tx, String notifyId, String outcome) {
    if (notifyId == null) {
      return Future.succeededFuture();
    }
    return tx.preparedQuery(NOTE_OUTCOME).execute(Tuple.of(notifyId, outcome)).mapEmpty();
  }

  Future<Order> lockByOutTradeNo(SqlClient tx, String outTradeNo) {
    return tx.preparedQuery(LOCK_BY_OUT_TRADE_NO).execute(Tuple.of(outTradeNo)).map(OrderRepository::first);
  }

  Future<Boolean> markPaid(SqlClient tx, long id, OffsetDateTime paidAt, String transactionId) {
    return tx.preparedQuery(MARK_PAID).execute(Tuple.of(id, paidAt, transactionId)).map(rows -> rows.rowCount() == 1);
  }

  Future<Boolean> markReview(SqlClient tx, long id, String reason, String transactionId) {
    return tx.preparedQuery(MARK_REVIEW).execute(Tuple.of(id, reason, transactionId)).map(rows -> rows.rowCount() == 1);
  }

  Future<Boolean> closeExpired(SqlClient tx, long id) {
    return tx.preparedQuery(CLOSE_EXPIRED).execute(Tuple.of(id)).map(rows -> rows.rowCount() == 1);
  }

  Future<Void> grant(SqlClient tx, Order o) {
    Future<Void> entitlement = tx.preparedQuery(GRANT).execute(Tuple.of(o.userId(), o.itemId(), o.id())).mapEmpty();
    if (!"membership".equals(o.itemKind())) {
      return entitlement;
    }
    return entitlement.compose(v -> tx.preparedQuery(EXTEND_MEMBERSHIP)
        .execute(Tuple.of(o.userId(), o.merchantId(), o.membershipDays())).mapEmpty());
  }

  Future<Void> revoke(SqlClient tx, Order o) {
    Future<Void> entitlement = tx.preparedQuery(REVOKE).execute(Tuple.of(o.id(), o.userId(), o.itemId())).mapEmpty();
    if (!"membership".equals(o.itemKind())) {
      return entitlement;
    }
    return entitlement.compose(v -> tx.preparedQuery(SHORTEN_MEMBERSHIP)
        .execute(Tuple.of(o.userId(), o.merchantId(), o.membershipDays())).mapEmpty());
  }

  Future<Void> outbox(SqlClient tx, String topic, JsonObject payload) {
    return tx.preparedQuery(OUTBOX).execute(Tuple.of(topic, payload)).mapEmpty();
  }

  Future<Boolean> startRefund(SqlClient tx, long orderId, long merchantId, long amountFen) {
    return tx.preparedQuery(START_REFUND).execute(Tuple.of(orderId, merchantId, amountFen))
        .map(rows -> rows.rowCount() == 1);
  }

  /** {@code requestedBy}: the merchant account that asked for the refund. */
  Future<Void> insertRefund(SqlClient tx, long orderId, String outRefundNo, long amountFen, String reason,
      Long requestedBy) {
    return tx.preparedQuery(INSERT_REFUND).execute(Tuple.of(orderId, outRefundNo, amountFen, reason, requestedBy))
        .mapEmpty();
  }

  record LockedRefund(long refundId, long refundFen, String status, long orderId) {}

  Future<LockedRefund> lockRefund(SqlClient tx, String outRefundNo) {
    return tx.preparedQuery(LOCK_REFUND).execute(Tuple.of(outRefundNo)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row r = rows.iterator().next();
      return new LockedRefund(r.getLong("refund_id"), r.getLong("refund_fen"), r.getString("refund_status"),
          r.getLong("order_id"));
    });
  }

  /** Moves a processing refund to its final status; null when it had already left processing. */
  Future<Long> finishRefund(SqlClient tx, long refundId, String status, String wechatRefundId) {
    return tx.preparedQuery(FINISH_REFUND).execute(Tuple.of(refundId, status, wechatRefundId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getLong(0));
  }

  /** Adds the refunded amount; answers whether the whole order is now refunded (null when it was not refunding). */
  Future<Boolean> orderRefunded(SqlClient tx, long orderId, long refundFen) {
    return tx.preparedQuery(ORDER_REFUNDED).execute(Tuple.of(orderId, refundFen))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getBoolean(0));
  }

  Future<Void> orderRefundUndone(SqlClient tx, long orderId) {
    return tx.preparedQuery(ORDER_REFUND_UNDONE).execute(Tuple.of(orderId)).mapEmpty();
  }

  Future<Order> orderById(SqlClient tx, long orderId) {
    return tx.preparedQuery("SELECT " + COLUMNS + FROM + "WHERE o.id = $1").execute(Tuple.of(orderId))
        .map(OrderRepository::first);
  }

  // ---- reconciliation ----

  public record Due(long id, String outTradeNo) {}

  Future<List<Due>> pendingToReconcile(int olderThanSec, int limit) {
    return pg.preparedQuery(PENDING_TO_RECONCILE).execute(Tuple.of(olderThanSec, limit)).map(rows -> {
      List<Due> out = new ArrayList<>();
      rows.forEach(r -> out.add(new Due(r.getLong(0), r.getString(1))));
      return out;
    });
  }

  Future<List<String>> refundsToReconcile(int olderThanSec, int limit) {
    return pg.preparedQuery(REFUNDS_TO_RECONCILE).execute(Tuple.of(olderThanSec, limit)).map(rows -> {
      List<String> out = new ArrayList<>();
      rows.forEach(r -> out.add(r.getString(0)));
      return out;
    });
  }

  private static Order first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : Order.of(rows.iterator().next());
  }

  private static List<Order> all(RowSet<Row> rows) {
    List<Order> out = new ArrayList<>();
    rows.forEach(r -> out.add(Order.of(r)));
    return out;
  }
}

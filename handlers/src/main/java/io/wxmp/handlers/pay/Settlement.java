package io.wxmp.handlers.pay;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.common.ProfileCache;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where what WeChat Pay says becomes our state: a payment notify, a query answer (from
 * {@code GET /orders/{id}} or the reconciliation job), a refund notify or refund query. Each runs in one transaction:
 * record the notify id (unique: a replay changes nothing), move the order with a conditional update, check amount,
 * appid and mchid, grant or revoke, write an outbox row. Notify, query and job racing each other grant once. After
 * the transaction (committed or not: a failed commit's outcome is unknown) the buyer's {@code GET /me} cache is
 * invalidated, as a grant or a refund moves {@code memberUntil}; from the order's lock until then it is held off.
 */
public final class Settlement {
  private static final Logger log = LoggerFactory.getLogger(Settlement.class);

  private final OrderRepository orders;
  private final WeChatPay pay;
  private final ProfileCache profiles;

  public Settlement(OrderRepository orders, WeChatPay pay, ProfileCache profiles) {
    this.orders = orders;
    this.pay = pay;
    this.profiles = profiles;
  }

  /**
   * The user whose order a settlement transaction locked: their {@code GET /me} cache is held off from then until
   * after the commit ({@link ProfileCache#beginWrite}), since the buyer's app sees the order paid (or refunded) as soon
   * as it commits and reads {@code /me} next.
   */
  private static final class Buyer {
    Long userId;

    Future<Order> seen(ProfileCache profiles, Order order) {
      if (order == null || userId != null) {
        return Future.succeededFuture(order);
      }
      userId = order.userId();
      return profiles.beginWrite(userId).map(order);
    }

    Future<Void> ended(ProfileCache profiles) {
      return userId == null ? Future.succeededFuture() : profiles.endWrite(userId);
    }
  }

  /** What a settlement did, kept on the notify's row for whoever investigates later. */
  public enum Outcome {
    APPLIED, APPLIED_AFTER_CLOSE, ALREADY_SETTLED, DUPLICATE_NOTIFY, UNKNOWN_ORDER, REVIEW, NOT_PAID, UNKNOWN_REFUND,
    REFUNDED, REFUND_FAILED, REFUND_PENDING;

    String text() {
      return name().toLowerCase();
    }
  }

  /**
   * Applies a payment as WeChat Pay reported it. {@code notifyId} is the notify's id, or null for a query answer.
   */
  public Future<Outcome> settlePayment(PayGateway.Payment payment, String notifyId, String eventType) {
    Buyer buyer = new Buyer();
    return orders.pool().withTransaction(tx -> orders.recordNotify(tx, notifyId, eventType, payment.outTradeNo())
        .compose(fresh -> !fresh
            ? Future.succeededFuture(Outcome.DUPLICATE_NOTIFY)
            : orders.lockByOutTradeNo(tx, payment.outTradeNo())
                .compose(order -> buyer.seen(profiles, order))
                .compose(order -> applyPayment(tx, order, payment))
                .compose(outcome -> orders.noteOutcome(tx, notifyId, outcome.text()).map(outcome))))
        .eventually(() -> buyer.ended(profiles))
        .onSuccess(outcome -> log.info("payment {} ({}): {}", payment.outTradeNo(),
            notifyId == null ? "query" : "notify " + notifyId, outcome.text()));
  }

  private Future<Outcome> applyPayment(SqlClient tx, Order order, PayGateway.Payment payment) {
    if (order == null) {
      log.warn("WeChat Pay reported out_trade_no {} that we never created", payment.outTradeNo());
      return Future.succeededFuture(Outcome.UNKNOWN_ORDER);
    }
    if (!"SUCCESS".equals(payment.tradeState()) && !"REFUND".equals(payment.tradeState())) {
      return Future.succeededFuture(Outcome.NOT_PAID);
    }
    String mismatch = mismatch(order, payment);
    if (mismatch != null) {
      log.warn("order {} needs review: {}", order.id(), mismatch);
      return orders.markReview(tx, order.id(), mismatch, payment.transactionId())
          .compose(marked -> !marked ? Future.succeededFuture(Outcome.REVIEW)
              : orders.outbox(tx, "order.review", new JsonObject().put("orderId", Json.id(order.id()))
                  .put("reason", mismatch)).map(Outcome.REVIEW));
    }
    boolean wasClosed = "closed".equals(order.status());
    return orders.markPaid(tx, order.id(), payment.successTime(), payment.transactionId()).compose(moved -> {
      if (!moved) {
        return Future.succeededFuture(Outcome.ALREADY_SETTLED);
      }
      if (wasClosed) {
        log.warn("order {} was closed here but WeChat Pay took the money: marking it paid and granting", order.id());
      }
      JsonObject event = new JsonObject()
          .put("orderId", Json.id(order.id()))
          .put("userId", Json.id(order.userId()))
          .put("itemId", Json.id(order.itemId()))
          .put("merchantId", Json.id(order.merchantId()))
          .put("amount", order.amountFen())
          .put("paidAfterClose", wasClosed);
      return orders.grant(tx, order)
          .compose(v -> orders.outbox(tx, "order.paid", event))
          .map(wasClosed ? Outcome.APPLIED_AFTER_CLOSE : Outcome.APPLIED);
    });
  }

  /** Why the payment does not belong to this order as we made it, or null when it does. */
  private String mismatch(Order order, PayGateway.Payment payment) {
    if (!Objects.equals(pay.appId(), payment.appid())) {
      return "appid " + payment.appid() + " is not ours";
    }
    if (!Objects.equals(pay.mchId(), payment.mchid())) {
      return "mchid " + payment.mchid() + " is not ours";
    }
    // We offer no coupons, so the payer paid exactly the total.
    if (!Objects.equals(payment.total(), order.amountFen())
        || (payment.payerTotal() != null && !Objects.equals(payment.payerTotal(), order.amountFen()))) {
      return "amount " + payment.total() + "/" + payment.payerTotal() + " fen, order is " + order.amountFen() + " fen";
    }
    return null;
  }

  /** Closes a pending order past its expiry (the caller closed it at WeChat Pay first). */
  public Future<Boolean> closeExpired(long orderId) {
    return orders.pool().withTransaction(tx -> orders.closeExpired(tx, orderId).compose(closed -> !closed
        ? Future.succeededFuture(false)
        : orders.outbox(tx, "order.closed", new JsonObject().put("orderId", Json.id(orderId))).map(true)));
  }

  /** Applies a refund's state as WeChat Pay reported it; {@code notifyId} null for a query answer. */
  public Future<Outcome> settleRefund(PayGateway.RefundState refund, String notifyId, String eventType) {
    Buyer buyer = new Buyer();
    return orders.pool().withTransaction(tx -> orders.recordNotify(tx, notifyId, eventType, refund.outTradeNo())
        .compose(fresh -> !fresh
            ? Future.succeededFuture(Outcome.DUPLICATE_NOTIFY)
            : orders.lockRefund(tx, refund.outRefundNo())
                .compose(locked -> applyRefund(tx, locked, refund, buyer))
                .compose(outcome -> orders.noteOutcome(tx, notifyId, outcome.text()).map(outcome))))
        .eventually(() -> buyer.ended(profiles))
        .onSuccess(outcome -> log.info("refund {} ({}): {}", refund.outRefundNo(),
            notifyId == null ? "query" : "notify " + notifyId, outcome.text()));
  }

  private Future<Outcome> applyRefund(SqlClient tx, OrderRepository.LockedRefund locked,
      PayGateway.RefundState refund, Buyer buyer) {
    if (locked == null) {
      log.warn("WeChat Pay reported out_refund_no {} that we never created", refund.outRefundNo());
      return Future.succeededFuture(Outcome.UNKNOWN_REFUND);
    }
    if ("SUCCESS".equals(refund.status())) {
      if (refund.refund() != null && refund.refund() != locked.refundFen()) {
        log.warn("refund {} reported {} fen, we asked for {}", refund.outRefundNo(), refund.refund(),
            locked.refundFen());
        return Future.succeededFuture(Outcome.REVIEW);
      }
      return orders.finishRefund(tx, locked.refundId(), "succeeded", refund.refundId()).compose(amount -> amount == null
          ? Future.succeededFuture(Outcome.ALREADY_SETTLED)
          : orders.orderRefunded(tx, locked.orderId(), amount).compose(full -> orders.orderById(tx, locked.orderId())
              .compose(order -> buyer.seen(profiles, order))
              // A partial refund keeps the grant; only the whole amount back takes it away.
              .compose(order -> (Boolean.TRUE.equals(full) ? orders.revoke(tx, order) : Future.<Void>succeededFuture())
                  .compose(v -> orders.outbox(tx, "order.refunded", new JsonObject()
                      .put("orderId", Json.id(order.id())).put("userId", Json.id(order.userId()))
                      .put("refund", amount).put("full", Boolean.TRUE.equals(full)))))
              .map(Outcome.REFUNDED)));
    }
    if ("CLOSED".equals(refund.status()) || "ABNORMAL".equals(refund.status())) {
      return failRefund(tx, locked, refund.status().toLowerCase());
    }
    return Future.succeededFuture(Outcome.REFUND_PENDING);
  }

  /** WeChat Pay never got or refused the refund: it did not happen. */
  public Future<Outcome> refundNotMade(String outRefundNo) {
    return orders.pool().withTransaction(tx -> orders.lockRefund(tx, outRefundNo)
        .compose(locked -> locked == null ? Future.succeededFuture(Outcome.UNKNOWN_REFUND)
            : failRefund(tx, locked, "failed")));
  }

  private Future<Outcome> failRefund(SqlClient tx, OrderRepository.LockedRefund locked, String status) {
    return orders.finishRefund(tx, locked.refundId(), status, null).compose(amount -> amount == null
        ? Future.succeededFuture(Outcome.ALREADY_SETTLED)
        : orders.orderRefundUndone(tx, locked.orderId())
            .compose(v -> orders.outbox(tx, "order.refund_failed", new JsonObject()
                .put("orderId", Json.id(locked.orderId())).put("status", status)))
            .map(Outcome.REFUND_FAILED));
  }
}

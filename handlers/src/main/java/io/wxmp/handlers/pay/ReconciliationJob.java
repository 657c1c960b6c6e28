package io.wxmp.handlers.pay;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.wxmp.handlers.common.ProfileCache;
import io.wxmp.handlers.common.RedisLease;
import io.wxmp.handlers.common.Upstream;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles what notifies did not: pending orders older than {@code reconcileAfterSec} are queried at WeChat Pay and
 * settled through {@link Settlement} exactly as a notify would; pending orders past their expiry are closed there and
 * here; processing refunds are queried. A Redis lease ({@code SET NX PX}) lets one instance act at a time across
 * servers; a run that does not get it does nothing.
 */
public final class ReconciliationJob {
  private static final Logger log = LoggerFactory.getLogger(ReconciliationJob.class);
  static final String LOCK_KEY = "wxmp:pay:reconcile:lock";
  private static final int BATCH = 100;

  private final OrderRepository orders;
  private final PayGateway gateway;
  private final Settlement settlement;
  private final RedisAPI redis;
  private final long leaseMs;

  public ReconciliationJob(Pool pg, RedisAPI redis, ProfileCache profiles, WeChatPay pay, Upstream upstream,
      long leaseMs) {
    this.orders = new OrderRepository(pg);
    this.gateway = new PayGateway(pay, upstream);
    this.settlement = new Settlement(orders, pay, profiles);
    this.redis = redis;
    this.leaseMs = leaseMs;
  }

  /**
   * One pass. Answers {@code {"ran": false}} when another instance holds the lease, otherwise what it did:
   * {@code {"ran": true, "settled", "closed", "refunds"}}.
   */
  public Future<JsonObject> runOnce() {
    return RedisLease.withLease(redis, LOCK_KEY, leaseMs, () -> {
          JsonObject summary = new JsonObject().put("ran", true).put("settled", 0).put("closed", 0).put("refunds", 0);
          return reconcileOrders(summary).compose(v -> reconcileRefunds(summary)).map(summary);
        }, new JsonObject().put("ran", false))
        .onSuccess(summary -> {
          if (summary.getBoolean("ran") && (summary.getInteger("settled") + summary.getInteger("closed")
              + summary.getInteger("refunds")) > 0) {
            log.info("reconciliation: {}", summary.encode());
          }
        });
  }

  private Future<Void> reconcileOrders(JsonObject summary) {
    return orders.pendingToReconcile(gateway.pay().reconcileAfterSec(), BATCH)
        .compose(due -> sequentially(due, order -> reconcileOrder(order, summary)));
  }

  private Future<Void> reconcileOrder(OrderRepository.Due order, JsonObject summary) {
    return gateway.query(order.outTradeNo()).compose(payment -> {
      if (payment != null && ("SUCCESS".equals(payment.tradeState()) || "REFUND".equals(payment.tradeState()))) {
        return settle(payment, summary);
      }
      return closeIfExpired(order, summary);
    });
  }

  private Future<Void> settle(PayGateway.Payment payment, JsonObject summary) {
    return settlement.settlePayment(payment, null, null).map(outcome -> {
      if (outcome == Settlement.Outcome.APPLIED || outcome == Settlement.Outcome.APPLIED_AFTER_CLOSE) {
        summary.put("settled", summary.getInteger("settled") + 1);
      }
      return null;
    });
  }

  /** Closes at WeChat Pay first: if the user paid in the meantime, WeChat says so and we settle instead. */
  private Future<Void> closeIfExpired(OrderRepository.Due order, JsonObject summary) {
    return orders.pool().preparedQuery("SELECT expires_at <= now() FROM orders WHERE id = $1")
        .execute(io.vertx.sqlclient.Tuple.of(order.id()))
        .compose(rows -> {
          if (!rows.iterator().next().getBoolean(0)) {
            return Future.succeededFuture();
          }
          return gateway.close(order.outTradeNo()).compose(closedThere -> closedThere
              ? settlement.closeExpired(order.id()).map(closed -> {
                if (closed) {
                  summary.put("closed", summary.getInteger("closed") + 1);
                }
                return (Void) null;
              })
              : gateway.query(order.outTradeNo()).compose(payment -> payment == null ? Future.succeededFuture()
                  : settle(payment, summary)));
        });
  }

  private Future<Void> reconcileRefunds(JsonObject summary) {
    return orders.refundsToReconcile(gateway.pay().reconcileAfterSec(), BATCH)
        .compose(due -> sequentially(due, outRefundNo -> gateway.queryRefund(outRefundNo)
            .compose(state -> state == null ? settlement.refundNotMade(outRefundNo)
                : settlement.settleRefund(state, null, null))
            .map(outcome -> {
              if (outcome == Settlement.Outcome.REFUNDED || outcome == Settlement.Outcome.REFUND_FAILED) {
                summary.put("refunds", summary.getInteger("refunds") + 1);
              }
              return (Void) null;
            })));
  }

  /** One at a time, so a backlog does not flood WeChat Pay; one failure does not stop the others. */
  private static <T> Future<Void> sequentially(List<T> work, Function<T, Future<Void>> step) {
    Future<Void> chain = Future.succeededFuture();
    for (T item : work) {
      chain = chain.compose(v -> step.apply(item).recover(failure -> {
        log.warn("reconciliation of {} failed, next run tries again: {}", item, failure.toString());
        return Future.succeededFuture();
      }));
    }
    return chain;
  }
}

package io.wxmp.handlers.pay;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.MerchantPrincipal;
import io.wxmp.handlers.common.UserPrincipal;
import io.wxmp.handlers.items.Item;
import io.wxmp.handlers.items.ItemRepository;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Orders: created (and committed, pending, with its out_trade_no) before prepay is called, so a notify that beats the
 * prepay answer finds it; read back with a WeChat Pay query while pending; refunded by a merchant owner.
 */
public final class OrderService {
  private static final Logger log = LoggerFactory.getLogger(OrderService.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final OrderRepository orders;
  private final ItemRepository items;
  private final PayGateway gateway;
  private final Settlement settlement;

  public OrderService(OrderRepository orders, ItemRepository items, PayGateway gateway, Settlement settlement) {
    this.orders = orders;
    this.items = items;
    this.gateway = gateway;
    this.settlement = settlement;
  }

  public record Created(Order order, JsonObject payParams, boolean isNew) {}

  public Future<Created> create(UserPrincipal user, long itemId, String idempotencyKey) {
    return create(user, itemId, idempotencyKey, true);
  }

  private Future<Created> create(UserPrincipal user, long itemId, String idempotencyKey, boolean mayRetry) {
    Future<Order> earlier = idempotencyKey == null ? Future.succeededFuture()
        : orders.byIdempotencyKey(user.userId(), idempotencyKey);
    return earlier.compose(existing -> existing != null
        ? replay(user, existing, itemId)
        : items.byIdForUsers(itemId).compose(item -> {
          if (item == null || !"published".equals(item.status())) {
            throw ApiException.notFound();
          }
          if (item.free()) {
            throw ApiException.invalid(new JsonObject().put("itemId", "the item is free; there is nothing to pay"));
          }
          return ("membership".equals(item.kind()) ? Future.succeededFuture(false) : items.owns(user.userId(), item))
              .compose(owned -> {
                if (owned) {
                  throw ApiException.conflict("already_owned", "You already own this item.");
                }
                return orders.insert(new OrderRepository.NewOrder(newOutTradeNo(), user.userId(), item.id(),
                    item.merchantId(), item.priceFen(), idempotencyKey, gateway.pay().orderTtlSec()));
              })
              .compose(order -> order != null
                  // Read back: a notify may have settled the order before the prepay answer arrived.
                  ? prepay(user, order, item.title()).compose(params -> orders.byIdForUser(order.id(), user.userId())
                      .map(current -> new Created(current, params, true)))
                  // The insert met an order already there: this key's (a race with the same key), or the user's
                  // payable order for this item.
                  : (idempotencyKey == null ? Future.<Order>succeededFuture()
                      : orders.byIdempotencyKey(user.userId(), idempotencyKey))
                      .compose(winner -> winner != null ? replay(user, winner, itemId)
                          : reusePending(user, itemId, idempotencyKey, mayRetry)));
        }));
  }

  /**
   * One payable order per user and item: while it can still be paid, a new request answers it; once past its expiry
   * it is closed here (WeChat Pay refuses payment after {@code time_expire}; a late success notify is still applied)
   * and a new order is made in its place.
   */
  private Future<Created> reusePending(UserPrincipal user, long itemId, String idempotencyKey, boolean mayRetry) {
    return orders.pendingForItem(user.userId(), itemId).compose(pending -> {
      if (pending != null && pending.expiresAt().isAfter(OffsetDateTime.now())) {
        return replay(user, pending, itemId);
      }
      if (!mayRetry) {
        throw ApiException.conflict("conflict", "Another order for this item changed at the same time; try again.");
      }
      Future<Boolean> closed = pending == null ? Future.succeededFuture(false) : settlement.closeExpired(pending.id());
      return closed.compose(v -> create(user, itemId, idempotencyKey, false));
    });
  }

  /** The same Idempotency-Key again: the same order (and prepay again only if the first prepay never finished). */
  private Future<Created> replay(UserPrincipal user, Order existing, long itemId) {
    if (existing.itemId() != itemId) {
      throw ApiException.conflict("idempotency_key_reused", "This Idempotency-Key was used for another item.");
    }
    if (existing.payParams() != null || !"pending".equals(existing.status())) {
      return Future.succeededFuture(new Created(existing, existing.payParams(), false));
    }
    return items.byIdForUsers(itemId).compose(item -> {
          if (item == null) {
            throw ApiException.notFound();
          }
          return prepay(user, existing, item.title());
        })
        .map(params -> new Created(existing, params, false));
  }

  private Future<JsonObject> prepay(UserPrincipal user, Order order, String title) {
    return gateway.prepay(order.outTradeNo(), title, order.amountFen(), user.openid(), order.expiresAt())
        .compose(params -> {
          String pkg = params.getString("package");
          String prepayId = pkg != null && pkg.startsWith("prepay_id=") ? pkg.substring(10) : pkg;
          return orders.setPrepay(order.id(), prepayId, params).map(status -> params);
        })
        .recover(failure -> {
          if (PayGateway.rejected(failure)) {
            log.warn("WeChat Pay refused prepay for order {}: {}", order.id(), failure.getMessage());
            return orders.closeUnprepaid(order.id()).compose(v -> Future.failedFuture(
                new ApiException(502, "payment_rejected", "WeChat Pay refused to start this payment.")));
          }
          return Future.failedFuture(failure);
        });
  }

  /** The user's order; while pending, WeChat Pay is asked first and its answer settled like a notify. */
  public Future<Order> get(UserPrincipal user, long id) {
    return orders.byIdForUser(id, user.userId()).compose(order -> {
      if (order == null) {
        throw ApiException.notFound();
      }
      if (!"pending".equals(order.status()) || order.reviewReason() != null || order.prepayId() == null) {
        return Future.succeededFuture(order);
      }
      return gateway.query(order.outTradeNo())
          .compose(payment -> payment == null ? Future.succeededFuture()
              : settlement.settlePayment(payment, null, null).mapEmpty())
          .transform(done -> {
            if (done.failed()) {
              log.warn("could not ask WeChat Pay about order {}: {}", id, done.cause().toString());
            }
            return orders.byIdForUser(id, user.userId());
          });
    });
  }

  public Future<List<Order>> list(UserPrincipal user, Long beforeId, int limit) {
    return orders.listForUser(user.userId(), beforeId, limit);
  }

  public Future<List<Order>> listForMerchant(MerchantPrincipal m, String status, Long beforeId, int limit) {
    return orders.listForMerchant(m.merchantId(), status, beforeId, limit);
  }

  public Future<Order> getForMerchant(MerchantPrincipal m, long id) {
    return orders.byIdForMerchant(id, m.merchantId()).map(order -> {
      if (order == null) {
        throw ApiException.notFound();
      }
      return order;
    });
  }

  /**
   * Starts a refund: the order moves to refunding and the refund row is committed before WeChat Pay is called, so
   * the refund notify always finds them. {@code amountFen} null refunds what is left.
   */
  public Future<Order> refund(MerchantPrincipal m, Audit.Who who, long orderId, Long amountFen, String reason) {
    m.requireOwner();
    String outRefundNo = "R" + newOutTradeNo().substring(1);
    return getForMerchant(m, orderId).compose(order -> {
      long amount = amountFen == null ? order.amountFen() - order.refundedFen() : amountFen;
      if (amount < 1) {
        throw ApiException.conflict("conflict", "Nothing is left to refund on this order.");
      }
      return orders.pool().withTransaction(tx -> orders.startRefund(tx, orderId, m.merchantId(), amount)
              .compose(started -> {
                if (!started) {
                  throw ApiException.conflict("conflict", "Only a paid order can be refunded, once at a time, "
                      + "and never for more than was paid.");
                }
                return orders.insertRefund(tx, orderId, outRefundNo, amount, reason, m.accountId())
                    .compose(v -> Audit.record(tx, who, "order.refund", "order", orderId, new JsonObject()
                        .put("outRefundNo", new JsonObject().put("to", outRefundNo))
                        .put("amount", new JsonObject().put("to", amount))
                        .put("reason", new JsonObject().put("to", reason))
                        .put("status", new JsonObject().put("from", order.status()).put("to", "refunding"))));
              }))
          .compose(v -> gateway.refund(order.outTradeNo(), outRefundNo, amount, order.amountFen(), reason)
              .compose(state -> "PROCESSING".equals(state.status()) ? Future.succeededFuture()
                  : settlement.settleRefund(state, null, null).mapEmpty())
              .recover(failure -> {
                if (PayGateway.rejected(failure)) {
                  log.warn("WeChat Pay refused refund {}: {}", outRefundNo, failure.getMessage());
                  return settlement.refundNotMade(outRefundNo).compose(x -> Future.failedFuture(
                      ApiException.conflict("refund_rejected", "WeChat Pay refused the refund.")));
                }
                // No answer: the refund may or may not exist there; the reconciliation job asks later.
                log.warn("refund {} outcome unknown, left to reconciliation: {}", outRefundNo, failure.toString());
                return Future.succeededFuture();
              }))
          .compose(v -> getForMerchant(m, orderId));
    });
  }

  /** 6..32 characters of [0-9A-Za-z], unique: a time prefix for people, random for uniqueness. */
  static String newOutTradeNo() {
    byte[] random = new byte[8];
    RANDOM.nextBytes(random);
    return "W" + Instant.now().getEpochSecond() + HexFormat.of().formatHex(random);
  }
}

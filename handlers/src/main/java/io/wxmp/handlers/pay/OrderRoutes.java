package io.wxmp.handlers.pay;

import com.wechat.pay.java.service.payments.model.Transaction;
import com.wechat.pay.java.service.refund.model.RefundNotification;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Paging;
import io.wxmp.handlers.common.Respond;
import io.wxmp.handlers.items.ItemRepository;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /orders*} for users, {@code /admin/orders*} for merchants, and WeChat Pay's two callbacks
 * {@code /pay/notify} and {@code /pay/refund-notify} (verified, then settled, committed, and only then answered 204).
 */
public final class OrderRoutes {
  private static final Logger log = LoggerFactory.getLogger(OrderRoutes.class);
  private static final List<String> STATUSES = List.of("pending", "paid", "closed", "refunding", "refunded");

  private final OrderService service;
  private final Settlement settlement;
  private final NotifyVerifier verifier;

  private OrderRoutes(OrderService service, Settlement settlement, NotifyVerifier verifier) {
    this.service = service;
    this.settlement = settlement;
    this.verifier = verifier;
  }

  public static Router create(Deps deps) {
    WeChatPay pay = deps.pay();
    OrderRepository orders = new OrderRepository(deps.pg());
    Settlement settlement = new Settlement(orders, pay, deps.profiles());
    PayGateway gateway = new PayGateway(pay, deps.upstream());
    OrderService service = new OrderService(orders, new ItemRepository(deps.pg()), gateway, settlement);
    OrderRoutes routes = new OrderRoutes(service, settlement, new NotifyVerifier(pay));
    Router router = Router.router(deps.vertx());
    router.route("/orders*").handler(Authenticate.users(deps.sessions()));
    // an order costs a WeChat Pay call: a token bucket per user in front
    router.post("/orders").handler(deps.limits().orders()
        .handler(ctx -> Long.toString(Authenticate.user(ctx).userId())));
    router.post("/orders").handler(routes::create);
    router.get("/orders").handler(Respond.json(routes::list));
    router.get("/orders/:id").handler(Respond.json(routes::get));
    router.get("/admin/orders").handler(Respond.json(routes::adminList));
    router.get("/admin/orders/:id").handler(Respond.json(routes::adminGet));
    router.post("/admin/orders/:id/refund").handler(Respond.status(202, routes::refund));
    router.post("/pay/notify").handler(routes::paymentNotify);
    router.post("/pay/refund-notify").handler(routes::refundNotify);
    return router;
  }

  /** 201 with the order; the same Idempotency-Key again answers the same order. */
  void create(RoutingContext ctx) {
    Future<OrderService.Created> created;
    try {
      Input in = Input.of(ctx);
      Long itemId = in.id("itemId", true);
      String key = ctx.request().getHeader("Idempotency-Key");
      in.check(key == null || (!key.isBlank() && key.length() <= 64), "Idempotency-Key", "must be 1..64 characters");
      in.validate();
      created = service.create(Authenticate.user(ctx), itemId, key == null ? null : key.strip());
    } catch (RuntimeException e) {
      ctx.fail(e);
      return;
    }
    Respond.status(201, c -> created.map(result -> result.order().toJson()
        .put("payParams", result.payParams()))).handle(ctx);
  }

  Future<JsonObject> get(RoutingContext ctx) {
    return service.get(Authenticate.user(ctx), Ids.path(ctx, "id")).map(Order::toJson);
  }

  Future<JsonObject> list(RoutingContext ctx) {
    Paging paging = Paging.of(ctx);
    return service.list(Authenticate.user(ctx), paging.beforeId(), paging.fetch())
        .map(orders -> paging.page("items", orders, Order::id, Order::toJson));
  }

  Future<JsonObject> adminList(RoutingContext ctx) {
    Paging paging = Paging.of(ctx);
    String status = ctx.queryParams().get("status");
    if (status != null && !STATUSES.contains(status)) {
      throw ApiException.invalid(new JsonObject().put("status", "must be one of " + String.join(", ", STATUSES)));
    }
    return service.listForMerchant(Authenticate.merchant(ctx), status, paging.beforeId(), paging.fetch())
        .map(orders -> paging.page("items", orders, Order::id, Order::toAdminJson));
  }

  Future<JsonObject> adminGet(RoutingContext ctx) {
    return service.getForMerchant(Authenticate.merchant(ctx), Ids.path(ctx, "id")).map(Order::toAdminJson);
  }

  Future<JsonObject> refund(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    long id = Ids.path(ctx, "id");
    merchant.requireOwner();
    Input in = Input.of(ctx);
    Long amount = in.integer("amount", 1, Long.MAX_VALUE / 2, false);
    String reason = in.string("reason", 1, 80, true);
    in.validate();
    return service.refund(merchant, Audit.who(ctx), id, amount, reason).map(Order::toAdminJson);
  }

  void paymentNotify(RoutingContext ctx) {
    answerNotify(ctx, () -> {
      var notify = verifier.verify(ctx.request(), rawBody(ctx), Transaction.class, "TRANSACTION.");
      return settlement.settlePayment(PayGateway.Payment.of(notify.resource()), notify.id(), notify.eventType());
    });
  }

  void refundNotify(RoutingContext ctx) {
    answerNotify(ctx, () -> {
      var notify = verifier.verify(ctx.request(), rawBody(ctx), RefundNotification.class, "REFUND.");
      return settlement.settleRefund(PayGateway.RefundState.of(notify.resource()), notify.id(), notify.eventType());
    });
  }

  /**
   * 204 only after the settlement committed; 401 when the notify did not verify, 400 when it came to the wrong
   * callback (nothing changed either way); 500 otherwise
   * so that WeChat Pay delivers it again. Failure bodies are WeChat Pay's {@code {"code": "FAIL", "message"}}.
   */
  private void answerNotify(RoutingContext ctx, java.util.function.Supplier<Future<Settlement.Outcome>> work) {
    Future<Settlement.Outcome> result;
    try {
      result = work.get();
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(done -> {
      if (ctx.response().ended()) {
        return;
      }
      if (done.succeeded()) {
        ctx.response().setStatusCode(204).end();
        return;
      }
      Throwable failure = done.cause();
      int status = failure instanceof NotifyVerifier.Rejected ? 401
          : failure instanceof NotifyVerifier.Misrouted ? 400 : 500;
      if (status < 500) {
        log.warn("rejected WeChat Pay notify: {}", failure.getMessage());
      } else {
        log.error("WeChat Pay notify not applied; it will be delivered again", failure);
      }
      ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8")
          .end(new JsonObject().put("code", "FAIL")
              .put("message", status == 401 ? "signature verification failed"
                  : status == 400 ? "event type does not belong to this callback" : "not applied, retry").encode());
    });
  }

  private static String rawBody(RoutingContext ctx) {
    return ctx.body() == null || ctx.body().buffer() == null ? null : ctx.body().buffer().toString("UTF-8");
  }
}

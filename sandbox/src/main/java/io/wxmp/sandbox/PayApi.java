package io.wxmp.sandbox;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * WeChat Pay v3 for one merchant (WECHAT.md "WeChat Pay v3"): JSAPI prepay, query, close, refunds, every request's
 * Authorization checked and every answer signed; plus the pay part of the control API (the user pays, notifies).
 * State is touched only on the sandbox's event loop.
 */
final class PayApi {
  /** How long a refund stays PROCESSING before it succeeds, before {@code notifyTimeScale}. */
  static final long REFUND_DELAY_MS = 3_000;
  private static final ZoneOffset CHINA = ZoneOffset.ofHours(8);
  private static final Pattern OUT_NO = Pattern.compile("[0-9A-Za-z_\\-|*@]{1,64}");

  /** A JSAPI transaction. */
  static final class Order {
    final JsonObject request;
    final String appid;
    final String mchid;
    final String description;
    final String outTradeNo;
    final String notifyUrl;
    final String openid;
    final String attach;
    final long total;
    final String currency;
    final OffsetDateTime timeExpire;
    final String prepayId;
    String state = "NOTPAY";
    String transactionId;
    String successTime;
    long payerTotal;
    long refunded;

    Order(JsonObject request, String prepayId) {
      this.request = request.copy();
      this.appid = request.getString("appid");
      this.mchid = request.getString("mchid");
      this.description = request.getString("description");
      this.outTradeNo = request.getString("out_trade_no");
      this.notifyUrl = request.getString("notify_url");
      this.openid = request.getJsonObject("payer").getString("openid");
      this.attach = request.getValue("attach") instanceof String s ? s : null;
      JsonObject amount = request.getJsonObject("amount");
      this.total = amount.getLong("total");
      this.currency = amount.getValue("currency") instanceof String c ? c : "CNY";
      this.timeExpire = request.getValue("time_expire") instanceof String t ? OffsetDateTime.parse(t) : null;
      this.prepayId = prepayId;
    }

    /** The state as WeChat reports it now: an unpaid order past its time_expire is closed. */
    String state() {
      if ("NOTPAY".equals(state) && timeExpire != null && OffsetDateTime.now().isAfter(timeExpire)) {
        state = "CLOSED";
      }
      return state;
    }

    boolean paid() {
      return "SUCCESS".equals(state()) || "REFUND".equals(state());
    }
  }

  /** A refund. */
  static final class Refund {
    final Order order;
    final String outRefundNo;
    final String refundId;
    final String reason;
    final String notifyUrl;
    final long amount;
    final String createTime = now();
    String status = "PROCESSING";
    String successTime;

    Refund(Order order, String outRefundNo, String refundId, String reason, String notifyUrl, long amount) {
      this.order = order;
      this.outRefundNo = outRefundNo;
      this.refundId = refundId;
      this.reason = reason;
      this.notifyUrl = notifyUrl;
      this.amount = amount;
    }
  }

  private final Vertx vertx;
  private final SandboxConfig config;
  private final Wire wire;
  private final PayCrypto crypto;
  private final Notifier notifier;
  private final Stats stats;
  private final Map<String, Order> ordersByOutTradeNo = new HashMap<>();
  private final Map<String, Order> ordersByPrepayId = new HashMap<>();
  private final Map<String, Order> ordersByTransactionId = new HashMap<>();
  private final Map<String, Refund> refunds = new LinkedHashMap<>();
  private final List<Long> refundTimers = new ArrayList<>();

  PayApi(Vertx vertx, SandboxConfig config, Wire wire, PayCrypto crypto, Notifier notifier, Stats stats) {
    this.vertx = vertx;
    this.config = config;
    this.wire = wire;
    this.crypto = crypto;
    this.notifier = notifier;
    this.stats = stats;
  }

  void mount(Router router) {
    router.route("/v3/*").handler(this::authenticate);
    router.post("/v3/pay/transactions/jsapi").handler(this::prepay);
    router.get("/v3/pay/transactions/out-trade-no/:outTradeNo").handler(this::queryByOutTradeNo);
    router.get("/v3/pay/transactions/id/:transactionId").handler(this::queryByTransactionId);
    router.post("/v3/pay/transactions/out-trade-no/:outTradeNo/close").handler(this::close);
    router.post("/v3/refund/domestic/refunds").handler(this::createRefund);
    router.get("/v3/refund/domestic/refunds/:outRefundNo").handler(this::queryRefund);
    router.route("/v3/*").handler(ctx -> error(ctx, 404, "NOT_FOUND", "the sandbox does not simulate this API"));

    router.post("/sandbox/pay/confirm").handler(this::confirm);
    router.get("/sandbox/pay/notifications").handler(ctx -> wire.json(ctx, 200, notifier.toJson()));
    router.post("/sandbox/pay/notifications/:id/redeliver").handler(this::redeliver);
  }

  static String now() {
    return OffsetDateTime.now(CHINA).truncatedTo(ChronoUnit.SECONDS).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
  }

  // --- wire ----------------------------------------------------------------------------------------------------

  /** A signed WeChat Pay answer; a null body makes an empty one (204), signed over the empty string. */
  private void answer(RoutingContext ctx, int status, JsonObject body) {
    String text = body == null ? "" : body.encode();
    Map<String, String> headers = new LinkedHashMap<>(crypto.signedHeaders(text));
    headers.put("Request-ID", HexFormat.of().withUpperCase().formatHex(randomBytes(20)));
    if (!text.isEmpty()) {
      headers.put("Content-Type", "application/json");
    }
    wire.send(ctx, status, headers, text.isEmpty() ? null : Buffer.buffer(text));
  }

  private void error(RoutingContext ctx, int status, String code, String message) {
    answer(ctx, status, new JsonObject().put("code", code).put("message", message));
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    Wire.RANDOM.nextBytes(bytes);
    return bytes;
  }

  private static String digits(int n) {
    StringBuilder out = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      out.append(Wire.RANDOM.nextInt(10));
    }
    return out.toString();
  }

  private void authenticate(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    String problem = crypto.authorizationProblem(ctx.request().method().name(), ctx.request().uri(),
        body == null ? "" : body.toString(java.nio.charset.StandardCharsets.UTF_8),
        ctx.request().getHeader("Authorization"));
    if (problem != null) {
      stats.increment("payRequestsRejected");
      error(ctx, 401, "SIGN_ERROR", problem);
    } else {
      ctx.next();
    }
  }

  /** The JSON body, or null after answering 400 PARAM_ERROR. */
  private JsonObject body(RoutingContext ctx) {
    JsonObject body = Wire.jsonBody(ctx);
    if (body == null) {
      error(ctx, 400, "PARAM_ERROR", "the body must be a JSON object");
    }
    return body;
  }

  // --- transactions --------------------------------------------------------------------------------------------

  private void prepay(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    String problem = prepayProblem(body);
    if (problem != null) {
      error(ctx, 400, "PARAM_ERROR", problem);
      return;
    }
    if (!config.appId().equals(body.getString("appid")) || !config.mchId().equals(body.getString("mchid"))) {
      error(ctx, 400, "PARAM_ERROR", "appid and mchid do not match this merchant");
      return;
    }
    Order existing = ordersByOutTradeNo.get(body.getString("out_trade_no"));
    if (existing != null) {
      if (existing.paid()) {
        error(ctx, 403, "ORDERPAID", "the order is already paid");
      } else if ("CLOSED".equals(existing.state())) {
        error(ctx, 400, "ORDER_CLOSED", "the order is closed");
      } else if (!existing.request.equals(body)) {
        error(ctx, 400, "INVALID_REQUEST", "out_trade_no was used with different parameters");
      } else {
        answer(ctx, 200, new JsonObject().put("prepay_id", existing.prepayId));
      }
      return;
    }
    Order order = new Order(body, "wx" + HexFormat.of().formatHex(randomBytes(17)));
    ordersByOutTradeNo.put(order.outTradeNo, order);
    ordersByPrepayId.put(order.prepayId, order);
    stats.increment("ordersCreated");
    answer(ctx, 200, new JsonObject().put("prepay_id", order.prepayId));
  }

  /** What is wrong with a JSAPI prepay request, or null. */
  private static String prepayProblem(JsonObject body) {
    for (String name : new String[] {"appid", "mchid", "description", "out_trade_no", "notify_url"}) {
      if (!(body.getValue(name) instanceof String s) || s.isBlank()) {
        return "missing " + name;
      }
    }
    if (!OUT_NO.matcher(body.getString("out_trade_no")).matches() || body.getString("out_trade_no").length() < 6
        || body.getString("out_trade_no").length() > 32) {
      return "out_trade_no must be 6..32 of digits, letters, _-|*";
    }
    if (body.getString("description").length() > 127) {
      return "description is longer than 127 characters";
    }
    String url = body.getString("notify_url");
    if (!(url.startsWith("https://") || url.startsWith("http://")) || url.contains("?")) {
      return "notify_url must be an http(s) URL without a query";
    }
    if (!(body.getValue("amount") instanceof JsonObject amount) || !positiveInteger(amount.getValue("total"))) {
      return "amount.total must be a positive integer (fen)";
    }
    if (amount.getValue("currency") != null && !"CNY".equals(amount.getValue("currency"))) {
      return "amount.currency must be CNY";
    }
    if (!(body.getValue("payer") instanceof JsonObject payer) || !(payer.getValue("openid") instanceof String openid)
        || openid.isBlank()) {
      return "missing payer.openid";
    }
    if (body.getValue("time_expire") != null) {
      try {
        OffsetDateTime.parse(String.valueOf(body.getValue("time_expire")));
      } catch (DateTimeParseException e) {
        return "time_expire must be RFC 3339, like 2018-06-08T10:34:56+08:00";
      }
    }
    return null;
  }

  private static boolean positiveInteger(Object value) {
    return (value instanceof Integer || value instanceof Long) && ((Number) value).longValue() > 0;
  }

  private void queryByOutTradeNo(RoutingContext ctx) {
    String mchid = Wire.query(ctx).get("mchid");
    if (mchid == null || mchid.isEmpty()) {
      error(ctx, 400, "PARAM_ERROR", "missing mchid");
    } else if (!config.mchId().equals(mchid)) {
      error(ctx, 400, "PARAM_ERROR", "mchid does not match this merchant");
    } else {
      Order order = ordersByOutTradeNo.get(ctx.pathParam("outTradeNo"));
      if (order == null) {
        error(ctx, 404, "ORDER_NOT_EXIST", "the order does not exist");
      } else {
        answer(ctx, 200, transaction(order));
      }
    }
  }

  private void queryByTransactionId(RoutingContext ctx) {
    Order order = ordersByTransactionId.get(ctx.pathParam("transactionId"));
    if (!config.mchId().equals(Wire.query(ctx).get("mchid"))) {
      error(ctx, 400, "PARAM_ERROR", "mchid does not match this merchant");
    } else if (order == null) {
      error(ctx, 404, "ORDER_NOT_EXIST", "the order does not exist");
    } else {
      answer(ctx, 200, transaction(order));
    }
  }

  private void close(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    Order order = ordersByOutTradeNo.get(ctx.pathParam("outTradeNo"));
    if (!config.mchId().equals(body.getValue("mchid"))) {
      error(ctx, 400, "PARAM_ERROR", "mchid does not match this merchant");
    } else if (order == null) {
      error(ctx, 404, "ORDER_NOT_EXIST", "the order does not exist");
    } else if (order.paid()) {
      error(ctx, 403, "ORDERPAID", "the order is already paid");
    } else {
      order.state = "CLOSED";
      answer(ctx, 204, null);
    }
  }

  /** The Transaction as the query API and the payment notify show it. */
  private JsonObject transaction(Order order) {
    String state = order.state();
    JsonObject amount = new JsonObject().put("currency", order.currency).put("payer_currency", order.currency);
    if (order.transactionId != null) {
      amount.put("payer_total", order.payerTotal);
    }
    amount.put("total", order.total);
    JsonObject json = new JsonObject().put("amount", amount).put("appid", order.appid);
    if (order.attach != null) {
      json.put("attach", order.attach);
    }
    if (order.transactionId != null) {
      json.put("bank_type", "OTHERS");
    }
    json.put("mchid", order.mchid)
        .put("out_trade_no", order.outTradeNo)
        .put("payer", new JsonObject().put("openid", order.openid))
        .put("promotion_detail", new JsonArray());
    if (order.successTime != null) {
      json.put("success_time", order.successTime);
    }
    json.put("trade_state", state).put("trade_state_desc", switch (state) {
      case "SUCCESS" -> "支付成功";
      case "REFUND" -> "转入退款";
      case "CLOSED" -> "订单已关闭";
      default -> "订单未支付";
    }).put("trade_type", "JSAPI");
    if (order.transactionId != null) {
      json.put("transaction_id", order.transactionId);
    }
    return json;
  }

  // --- refunds -------------------------------------------------------------------------------------------------

  private void createRefund(RoutingContext ctx) {
    JsonObject body = body(ctx);
    if (body == null) {
      return;
    }
    String outRefundNo = body.getValue("out_refund_no") instanceof String s ? s : null;
    if (outRefundNo == null || !OUT_NO.matcher(outRefundNo).matches() || outRefundNo.length() > 64) {
      error(ctx, 400, "PARAM_ERROR", "missing or malformed out_refund_no");
      return;
    }
    Order order = body.getValue("out_trade_no") instanceof String no ? ordersByOutTradeNo.get(no)
        : body.getValue("transaction_id") instanceof String id ? ordersByTransactionId.get(id) : null;
    if (body.getValue("out_trade_no") == null && body.getValue("transaction_id") == null) {
      error(ctx, 400, "PARAM_ERROR", "out_trade_no or transaction_id is required");
      return;
    }
    if (!(body.getValue("amount") instanceof JsonObject amount) || !positiveInteger(amount.getValue("refund"))
        || !positiveInteger(amount.getValue("total")) || !"CNY".equals(amount.getValue("currency"))) {
      error(ctx, 400, "PARAM_ERROR", "amount needs refund and total (positive fen) and currency CNY");
      return;
    }
    String notifyUrl = body.getValue("notify_url") instanceof String u && !u.isBlank() ? u : null;
    long refundAmount = amount.getLong("refund");
    Refund existing = refunds.get(outRefundNo);
    if (existing != null) {
      if (existing.order == order && existing.amount == refundAmount) {
        answer(ctx, 200, refundJson(existing)); // the same request again: the same refund
      } else {
        error(ctx, 400, "INVALID_REQUEST", "out_refund_no was used with different parameters");
      }
      return;
    }
    if (order == null) {
      error(ctx, 404, "RESOURCE_NOT_EXISTS", "the order does not exist");
    } else if (!order.paid()) {
      error(ctx, 400, "INVALID_REQUEST", "the order is not paid");
    } else if (amount.getLong("total") != order.total) {
      error(ctx, 400, "PARAM_ERROR", "amount.total is not the order's total");
    } else if (refundAmount > order.total - order.refunded) {
      error(ctx, 400, "INVALID_REQUEST", "the refund exceeds what is left to refund");
    } else {
      Refund refund = new Refund(order, outRefundNo, "50" + digits(27),
          body.getValue("reason") instanceof String r ? r : null, notifyUrl, refundAmount);
      order.refunded += refundAmount;
      refunds.put(outRefundNo, refund);
      stats.increment("refundsCreated");
      long delay = Math.max(1, Math.round(REFUND_DELAY_MS * config.notifyTimeScale()));
      long[] timer = new long[1];
      timer[0] = vertx.setTimer(delay, id -> {
        refundTimers.remove(timer[0]);
        succeed(refund);
      });
      refundTimers.add(timer[0]);
      answer(ctx, 200, refundJson(refund));
    }
  }

  private void succeed(Refund refund) {
    refund.status = "SUCCESS";
    refund.successTime = now();
    refund.order.state = "REFUND";
    if (refund.notifyUrl != null) {
      Order order = refund.order;
      JsonObject resource = new JsonObject()
          .put("mchid", order.mchid)
          .put("out_trade_no", order.outTradeNo)
          .put("transaction_id", order.transactionId)
          .put("out_refund_no", refund.outRefundNo)
          .put("refund_id", refund.refundId)
          .put("refund_status", "SUCCESS")
          .put("success_time", refund.successTime)
          .put("user_received_account", "支付用户零钱")
          .put("amount", new JsonObject()
              .put("total", order.total)
              .put("refund", refund.amount)
              .put("payer_total", order.payerTotal)
              .put("payer_refund", payerRefund(refund)));
      notifier.send("REFUND.SUCCESS", "退款成功", "refund", resource, refund.notifyUrl, order.outTradeNo,
          refund.outRefundNo);
    }
  }

  private static long payerRefund(Refund refund) {
    return Math.min(refund.amount, refund.order.payerTotal);
  }

  private void queryRefund(RoutingContext ctx) {
    Refund refund = refunds.get(ctx.pathParam("outRefundNo"));
    if (refund == null) {
      error(ctx, 404, "RESOURCE_NOT_EXISTS", "the refund does not exist");
    } else {
      answer(ctx, 200, refundJson(refund));
    }
  }

  private static JsonObject refundJson(Refund refund) {
    Order order = refund.order;
    JsonObject json = new JsonObject()
        .put("refund_id", refund.refundId)
        .put("out_refund_no", refund.outRefundNo)
        .put("transaction_id", order.transactionId)
        .put("out_trade_no", order.outTradeNo)
        .put("channel", "ORIGINAL")
        .put("user_received_account", "支付用户零钱");
    if (refund.successTime != null) {
      json.put("success_time", refund.successTime);
    }
    return json.put("create_time", refund.createTime)
        .put("status", refund.status)
        .put("funds_account", "AVAILABLE")
        .put("amount", new JsonObject()
            .put("total", order.total)
            .put("refund", refund.amount)
            .put("from", new JsonArray())
            .put("payer_total", order.payerTotal)
            .put("payer_refund", payerRefund(refund))
            .put("settlement_refund", refund.amount)
            .put("settlement_total", order.total)
            .put("discount_refund", 0)
            .put("currency", order.currency))
        .put("promotion_detail", new JsonArray());
  }

  // --- control API ---------------------------------------------------------------------------------------------

  /**
   * {@code {"outTradeNo"} | {"prepayId"}, "notify"?: bool, "amount"?: fen} → 200 Transaction: the user pays; a
   * TRANSACTION.SUCCESS notify goes out unless notify is false; amount overrides what the payer paid.
   */
  private void confirm(RoutingContext ctx) {
    JsonObject body = Wire.jsonBody(ctx);
    if (body == null) {
      controlError(ctx, 400, "bad_request", "body must be {\"outTradeNo\"} or {\"prepayId\"}");
      return;
    }
    Object notify = body.getValue("notify");
    Object amount = body.getValue("amount");
    if ((notify != null && !(notify instanceof Boolean)) || (amount != null && !positiveInteger(amount))) {
      controlError(ctx, 400, "bad_request", "notify is a boolean, amount a positive integer");
      return;
    }
    Order order = body.getValue("outTradeNo") instanceof String no ? ordersByOutTradeNo.get(no)
        : body.getValue("prepayId") instanceof String id ? ordersByPrepayId.get(id) : null;
    if (order == null) {
      controlError(ctx, 404, "not_found", "no order with that outTradeNo or prepayId");
    } else if (order.paid()) {
      controlError(ctx, 409, "conflict", "the order is already paid");
    } else if ("CLOSED".equals(order.state())) {
      controlError(ctx, 409, "conflict", "the order is closed");
    } else {
      order.state = "SUCCESS";
      order.transactionId = "42000" + digits(5) + OffsetDateTime.now(CHINA).format(DateTimeFormatter.ofPattern("yyyyMMdd"))
          + digits(10);
      order.successTime = now();
      order.payerTotal = amount == null ? order.total : ((Number) amount).longValue();
      ordersByTransactionId.put(order.transactionId, order);
      stats.increment("paymentsConfirmed");
      JsonObject transaction = transaction(order);
      if (!Boolean.FALSE.equals(notify)) {
        notifier.send("TRANSACTION.SUCCESS", "支付成功", "transaction", transaction, order.notifyUrl,
            order.outTradeNo, null);
      }
      wire.json(ctx, 200, transaction);
    }
  }

  private void redeliver(RoutingContext ctx) {
    notifier.redeliver(ctx.pathParam("id")).onComplete(done -> {
      if (done.failed()) {
        ctx.fail(done.cause());
      } else if (done.result() == null) {
        controlError(ctx, 404, "not_found", "no such notification");
      } else {
        wire.json(ctx, 200, done.result());
      }
    });
  }

  private void controlError(RoutingContext ctx, int status, String code, String message) {
    wire.json(ctx, status, new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)));
  }

  void close() {
    refundTimers.forEach(vertx::cancelTimer);
    refundTimers.clear();
  }
}

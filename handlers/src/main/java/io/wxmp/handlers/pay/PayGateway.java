package io.wxmp.handlers.pay;

import com.wechat.pay.java.core.exception.ServiceException;
import com.wechat.pay.java.core.exception.WechatPayException;
import com.wechat.pay.java.service.payments.jsapi.model.Amount;
import com.wechat.pay.java.service.payments.jsapi.model.CloseOrderRequest;
import com.wechat.pay.java.service.payments.jsapi.model.Payer;
import com.wechat.pay.java.service.payments.jsapi.model.PrepayRequest;
import com.wechat.pay.java.service.payments.jsapi.model.PrepayWithRequestPaymentResponse;
import com.wechat.pay.java.service.payments.jsapi.model.QueryOrderByOutTradeNoRequest;
import com.wechat.pay.java.service.payments.model.Transaction;
import com.wechat.pay.java.service.refund.model.AmountReq;
import com.wechat.pay.java.service.refund.model.CreateRequest;
import com.wechat.pay.java.service.refund.model.QueryByOutRefundNoRequest;
import com.wechat.pay.java.service.refund.model.Refund;
import com.wechat.pay.java.service.refund.model.RefundNotification;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Upstream;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The calls we make to WeChat Pay, each on the "wechat" worker pool through {@link Upstream}, turned into our own
 * records at once (SDK beans are Gson-shaped and never leave this class).
 */
public final class PayGateway {
  private static final Logger log = LoggerFactory.getLogger(PayGateway.class);
  static final String WHAT = "WeChat Pay";
  private static final ZoneOffset CHINA = ZoneOffset.ofHours(8);

  private final WeChatPay pay;
  private final Upstream upstream;

  public PayGateway(WeChatPay pay, Upstream upstream) {
    this.pay = pay;
    this.upstream = upstream;
  }

  public WeChatPay pay() {
    return pay;
  }

  /** A payment as WeChat Pay reports it (query answer or decrypted notify). */
  public record Payment(String outTradeNo, String transactionId, String tradeState, String appid, String mchid,
      Long total, Long payerTotal, OffsetDateTime successTime) {
    static Payment of(Transaction t) {
      Long total = t.getAmount() == null || t.getAmount().getTotal() == null ? null : t.getAmount().getTotal().longValue();
      Long payerTotal = t.getAmount() == null || t.getAmount().getPayerTotal() == null ? null
          : t.getAmount().getPayerTotal().longValue();
      return new Payment(t.getOutTradeNo(), t.getTransactionId(),
          t.getTradeState() == null ? null : t.getTradeState().name(), t.getAppid(), t.getMchid(), total, payerTotal,
          parseTime(t.getSuccessTime()));
    }
  }

  /** A refund as WeChat Pay reports it. */
  public record RefundState(String outRefundNo, String outTradeNo, String refundId, String status, Long refund) {
    static RefundState of(Refund r) {
      return new RefundState(r.getOutRefundNo(), r.getOutTradeNo(), r.getRefundId(),
          r.getStatus() == null ? null : r.getStatus().name(), r.getAmount() == null ? null : r.getAmount().getRefund());
    }

    static RefundState of(RefundNotification r) {
      return new RefundState(r.getOutRefundNo(), r.getOutTradeNo(), r.getRefundId(),
          r.getRefundStatus() == null ? null : r.getRefundStatus().name(),
          r.getAmount() == null ? null : r.getAmount().getRefund());
    }
  }

  /** JSAPI prepay; answers exactly what {@code wx.requestPayment} takes. */
  public Future<JsonObject> prepay(String outTradeNo, String description, long amountFen, String openid,
      OffsetDateTime expiresAt) {
    PrepayRequest request = new PrepayRequest();
    request.setAppid(pay.appId());
    request.setMchid(pay.mchId());
    request.setDescription(truncateUtf8(description, 127));
    request.setOutTradeNo(outTradeNo);
    request.setNotifyUrl(pay.payNotifyUrl());
    request.setTimeExpire(rfc3339(expiresAt));
    Amount amount = new Amount();
    amount.setTotal(Math.toIntExact(amountFen));
    amount.setCurrency("CNY");
    request.setAmount(amount);
    Payer payer = new Payer();
    payer.setOpenid(openid);
    request.setPayer(payer);
    return call(() -> {
      PrepayWithRequestPaymentResponse r = pay.jsapi().prepayWithRequestPayment(request);
      return new JsonObject()
          .put("appId", r.getAppId())
          .put("timeStamp", r.getTimeStamp())
          .put("nonceStr", r.getNonceStr())
          .put("package", r.getPackageVal())
          .put("signType", r.getSignType())
          .put("paySign", r.getPaySign());
    });
  }

  /** The transaction, or null when WeChat Pay does not know the out_trade_no (prepay never reached it). */
  public Future<Payment> query(String outTradeNo) {
    QueryOrderByOutTradeNoRequest request = new QueryOrderByOutTradeNoRequest();
    request.setOutTradeNo(outTradeNo);
    request.setMchid(pay.mchId());
    return call(() -> {
      try {
        return Payment.of(pay.jsapi().queryOrderByOutTradeNo(request));
      } catch (ServiceException e) {
        if ("ORDER_NOT_EXIST".equals(e.getErrorCode())) {
          return null;
        }
        throw e;
      }
    });
  }

  /** Closes at WeChat Pay; true when closed (or never known there), false when it was paid meanwhile. */
  public Future<Boolean> close(String outTradeNo) {
    CloseOrderRequest request = new CloseOrderRequest();
    request.setOutTradeNo(outTradeNo);
    request.setMchid(pay.mchId());
    return call(() -> {
      try {
        pay.jsapi().closeOrder(request);
        return true;
      } catch (ServiceException e) {
        if ("ORDERPAID".equals(e.getErrorCode())) {
          return false;
        }
        if ("ORDER_NOT_EXIST".equals(e.getErrorCode()) || "ORDERCLOSED".equals(e.getErrorCode())) {
          return true;
        }
        throw e;
      }
    });
  }

  public Future<RefundState> refund(String outTradeNo, String outRefundNo, long refundFen, long totalFen, String reason) {
    CreateRequest request = new CreateRequest();
    request.setOutTradeNo(outTradeNo);
    request.setOutRefundNo(outRefundNo);
    request.setReason(truncateUtf8(reason, 80));
    request.setNotifyUrl(pay.refundNotifyUrl());
    AmountReq amount = new AmountReq();
    amount.setRefund(refundFen);
    amount.setTotal(totalFen);
    amount.setCurrency("CNY");
    request.setAmount(amount);
    return call(() -> RefundState.of(pay.refunds().create(request)));
  }

  /** The refund, or null when WeChat Pay does not know it (the create call never reached it). */
  public Future<RefundState> queryRefund(String outRefundNo) {
    QueryByOutRefundNoRequest request = new QueryByOutRefundNoRequest();
    request.setOutRefundNo(outRefundNo);
    return call(() -> {
      try {
        return RefundState.of(pay.refunds().queryByOutRefundNo(request));
      } catch (ServiceException e) {
        if ("RESOURCE_NOT_EXISTS".equals(e.getErrorCode()) || "ORDER_NOT_EXIST".equals(e.getErrorCode())) {
          return null;
        }
        throw e;
      }
    });
  }

  /**
   * WeChat Pay refused the request (a 4xx with a code). Carries only status, code and WeChat Pay's message: the SDK's
   * own exception prints the whole request, its signed Authorization header and the payer included.
   */
  public static final class Refused extends RuntimeException {
    Refused(int status, String code, String message) {
      super("HTTP " + status + " " + code + ": " + message, null, false, false);
    }
  }

  /** WeChat Pay rejected the request (a 4xx with a code): not worth retrying as is. */
  static boolean rejected(Throwable failure) {
    return failure instanceof Refused;
  }

  /** On the worker pool; SDK failures leave as {@link Refused} (4xx) or 503 (anything else), never as SDK exceptions. */
  private <T> Future<T> call(Callable<T> call) {
    return upstream.call(WHAT, call).recover(failure -> Future.failedFuture(translate(failure)));
  }

  private static Throwable translate(Throwable failure) {
    if (failure instanceof ServiceException s) {
      if (s.getHttpStatusCode() >= 400 && s.getHttpStatusCode() < 500) {
        return new Refused(s.getHttpStatusCode(), s.getErrorCode(), s.getErrorMessage());
      }
      log.warn("WeChat Pay answered HTTP {} {}: {}", s.getHttpStatusCode(), s.getErrorCode(), s.getErrorMessage());
      return unavailable();
    }
    if (failure instanceof WechatPayException) {
      // An answer that did not verify or parse: as good as none.
      log.warn("WeChat Pay answer unusable: {}", failure.getClass().getSimpleName());
      return unavailable();
    }
    return failure;
  }

  static ApiException unavailable() {
    return ApiException.upstreamUnavailable(WHAT);
  }

  static String rfc3339(OffsetDateTime time) {
    return time.withOffsetSameInstant(CHINA).truncatedTo(ChronoUnit.SECONDS).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
  }

  static OffsetDateTime parseTime(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return OffsetDateTime.parse(text);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static String truncateUtf8(String text, int maxBytes) {
    String s = text == null || text.isBlank() ? "wxmp" : text;
    while (s.getBytes(StandardCharsets.UTF_8).length > maxBytes) {
      s = s.substring(0, s.offsetByCodePoints(0, s.codePointCount(0, s.length()) - 1));
    }
    return s;
  }
}

package io.wxmp.handlers.pay;

import com.wechat.pay.java.core.notification.NotificationParser;
import com.wechat.pay.java.service.payments.jsapi.JsapiServiceExtension;
import com.wechat.pay.java.service.refund.RefundService;

/**
 * The WeChat Pay side of the server, built once at start-up from the settings: the merchant's identity, where
 * notifies go, and the wechatpay-java services (all blocking: call them only through {@code Upstream}).
 *
 * @param notifyBaseUrl public base URL of this server; {@code /api/v1/pay/notify} and {@code /api/v1/pay/refund-notify}
 *     are appended
 * @param orderTtlSec how long a pending order can be paid ({@code time_expire})
 * @param reconcileAfterSec how old a pending order or processing refund must be before the job asks WeChat Pay
 * @param notifyMaxAgeSec notifies whose {@code Wechatpay-Timestamp} is further from now than this are rejected
 */
public record WeChatPay(
    String appId,
    String mchId,
    String notifyBaseUrl,
    int orderTtlSec,
    int reconcileAfterSec,
    int notifyMaxAgeSec,
    JsapiServiceExtension jsapi,
    RefundService refunds,
    NotificationParser notifications) {

  public String payNotifyUrl() {
    return notifyBaseUrl + "/api/v1/pay/notify";
  }

  public String refundNotifyUrl() {
    return notifyBaseUrl + "/api/v1/pay/refund-notify";
  }
}

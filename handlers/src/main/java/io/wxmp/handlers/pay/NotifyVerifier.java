package io.wxmp.handlers.pay;

import com.wechat.pay.java.core.notification.RequestParam;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

/**
 * Checks a WeChat Pay notify before anything is believed: a fresh {@code Wechatpay-Timestamp}, the signature over
 * the raw body with the WeChat Pay public key named by {@code Wechatpay-Serial}, then AES-GCM decryption with the
 * APIv3 key (all by the SDK's {@code NotificationParser}).
 */
public final class NotifyVerifier {
  private final WeChatPay pay;

  public NotifyVerifier(WeChatPay pay) {
    this.pay = pay;
  }

  /** A notify that did not verify; answered 401 and nothing changes. */
  public static final class Rejected extends RuntimeException {
    Rejected(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * A genuine notify delivered to the other callback (a payment notify on the refund URL or the reverse); answered
   * 4xx and not recorded, so that its id is still free when it reaches the right one.
   */
  public static final class Misrouted extends RuntimeException {
    Misrouted(String message) {
      super(message, null, false, false);
    }
  }

  /** A verified notify: its envelope (id, event_type) and the decrypted resource. */
  public record Verified<T>(String id, String eventType, T resource) {}

  /** Verifies and decrypts; {@code eventPrefix} ("TRANSACTION." or "REFUND.") is what this endpoint accepts. */
  public <T> Verified<T> verify(HttpServerRequest request, String rawBody, Class<T> type, String eventPrefix) {
    String serial = request.getHeader("Wechatpay-Serial");
    String signature = request.getHeader("Wechatpay-Signature");
    String timestamp = request.getHeader("Wechatpay-Timestamp");
    String nonce = request.getHeader("Wechatpay-Nonce");
    String signType = request.getHeader("Wechatpay-Signature-Type");
    if (serial == null || signature == null || timestamp == null || nonce == null || rawBody == null) {
      throw new Rejected("missing Wechatpay-* headers or body");
    }
    long seconds;
    try {
      seconds = Long.parseLong(timestamp.trim());
    } catch (NumberFormatException e) {
      throw new Rejected("Wechatpay-Timestamp is not a number");
    }
    // The parser does not look at the age: a captured notify must not be replayable later.
    if (Math.abs(System.currentTimeMillis() / 1000 - seconds) > pay.notifyMaxAgeSec()) {
      throw new Rejected("stale Wechatpay-Timestamp");
    }
    RequestParam param = new RequestParam.Builder()
        .serialNumber(serial)
        .nonce(nonce)
        .signature(signature)
        .timestamp(timestamp)
        .signType(signType == null ? "WECHATPAY2-SHA256-RSA2048" : signType)
        .body(rawBody)
        .build();
    T resource;
    try {
      resource = pay.notifications().parse(param, type);
    } catch (RuntimeException e) {
      throw new Rejected("did not verify: " + e.getClass().getSimpleName());
    }
    // Verified, so the envelope can be trusted too.
    JsonObject envelope = new JsonObject(rawBody);
    String eventType = envelope.getString("event_type");
    if (eventType == null || !eventType.startsWith(eventPrefix)) {
      throw new Misrouted("event_type " + eventType + " does not belong to this callback");
    }
    return new Verified<>(envelope.getString("id"), eventType, resource);
  }
}

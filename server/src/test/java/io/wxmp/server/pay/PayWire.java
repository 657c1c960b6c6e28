package io.wxmp.server.pay;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.wxmp.sandbox.SandboxKeys;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.Signature;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.UUID;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * What WeChat Pay would send, made in the test with the sandbox's own keys: signed, encrypted notifies (so a test
 * controls id, amount and timing exactly) and the check of a {@code paySign}.
 */
final class PayWire {
  private final SandboxKeys keys;

  PayWire(SandboxKeys keys) {
    this.keys = keys;
  }

  record Notify(String body, MultiMap headers) {
    Notify withHeader(String name, String value) {
      MultiMap copy = MultiMap.caseInsensitiveMultiMap().addAll(headers);
      copy.set(name, value);
      return new Notify(body, copy);
    }

    Notify withBody(String other) {
      return new Notify(other, headers);
    }

    Buffer buffer() {
      return Buffer.buffer(body);
    }
  }

  static JsonObject transaction(String appid, String mchid, String outTradeNo, long total, long payerTotal) {
    return new JsonObject()
        .put("appid", appid).put("mchid", mchid).put("out_trade_no", outTradeNo)
        .put("transaction_id", "4200" + Long.toString(System.nanoTime()).substring(0, 10))
        .put("trade_type", "JSAPI").put("trade_state", "SUCCESS").put("trade_state_desc", "支付成功")
        .put("bank_type", "OTHERS")
        .put("success_time", OffsetDateTime.now(ZoneOffset.ofHours(8)).withNano(0).toString())
        .put("payer", new JsonObject().put("openid", "o-test"))
        .put("amount", new JsonObject().put("total", total).put("payer_total", payerTotal)
            .put("currency", "CNY").put("payer_currency", "CNY"));
  }

  Notify notify(String id, String eventType, String originalType, JsonObject resource, long timestampSec) {
    try {
      String nonce = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
      String aad = originalType;
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(keys.apiV3Key().getBytes(StandardCharsets.UTF_8), "AES"),
          new GCMParameterSpec(128, nonce.getBytes(StandardCharsets.UTF_8)));
      cipher.updateAAD(aad.getBytes(StandardCharsets.UTF_8));
      String ciphertext = Base64.getEncoder().encodeToString(
          cipher.doFinal(resource.encode().getBytes(StandardCharsets.UTF_8)));
      String body = new JsonObject()
          .put("id", id)
          .put("create_time", OffsetDateTime.now(ZoneOffset.ofHours(8)).withNano(0).toString())
          .put("resource_type", "encrypt-resource")
          .put("event_type", eventType)
          .put("summary", "test")
          .put("resource", new JsonObject().put("original_type", originalType).put("algorithm", "AEAD_AES_256_GCM")
              .put("ciphertext", ciphertext).put("associated_data", aad).put("nonce", nonce))
          .encode();
      String timestamp = Long.toString(timestampSec);
      String signNonce = UUID.randomUUID().toString().replace("-", "");
      Signature signer = Signature.getInstance("SHA256withRSA");
      signer.initSign(keys.platform().getPrivate());
      signer.update((timestamp + "\n" + signNonce + "\n" + body + "\n").getBytes(StandardCharsets.UTF_8));
      MultiMap headers = MultiMap.caseInsensitiveMultiMap()
          .add("Content-Type", "application/json")
          .add("Wechatpay-Serial", keys.platformPublicKeyId())
          .add("Wechatpay-Signature", Base64.getEncoder().encodeToString(signer.sign()))
          .add("Wechatpay-Timestamp", timestamp)
          .add("Wechatpay-Nonce", signNonce)
          .add("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048");
      return new Notify(body, headers);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  Notify paymentNotify(String id, JsonObject transaction) {
    return notify(id, "TRANSACTION.SUCCESS", "transaction", transaction, System.currentTimeMillis() / 1000);
  }

  static boolean verifies(PublicKey key, String message, String signatureBase64) {
    try {
      Signature verifier = Signature.getInstance("SHA256withRSA");
      verifier.initVerify(key);
      verifier.update(message.getBytes(StandardCharsets.UTF_8));
      return verifier.verify(Base64.getDecoder().decode(signatureBase64));
    } catch (Exception e) {
      return false;
    }
  }
}

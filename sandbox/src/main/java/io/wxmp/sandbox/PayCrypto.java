package io.wxmp.sandbox;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * WeChat Pay v3 cryptography with the JDK only: checking the merchant's {@code WECHATPAY2-SHA256-RSA2048}
 * Authorization, signing answers and notifies with the platform key, and AEAD_AES_256_GCM for notify resources.
 */
final class PayCrypto {
  static final String SCHEMA = "WECHATPAY2-SHA256-RSA2048";
  private static final Pattern AUTH_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
  private static final long MAX_CLOCK_SKEW_S = 5 * 60;

  private final SandboxConfig config;

  PayCrypto(SandboxConfig config) {
    this.config = config;
  }

  /** Why the Authorization of a request does not hold, or null when it does. */
  String authorizationProblem(String method, String uri, String body, String authorization) {
    if (authorization == null || !authorization.startsWith(SCHEMA + " ")) {
      return "Authorization must use the " + SCHEMA + " schema";
    }
    Map<String, String> params = new HashMap<>();
    Matcher m = AUTH_PARAM.matcher(authorization.substring(SCHEMA.length() + 1));
    while (m.find()) {
      params.put(m.group(1), m.group(2));
    }
    for (String name : new String[] {"mchid", "nonce_str", "timestamp", "serial_no", "signature"}) {
      if (params.get(name) == null || params.get(name).isEmpty()) {
        return "Authorization lacks " + name;
      }
    }
    if (!config.mchId().equals(params.get("mchid"))) {
      return "mchid in Authorization is not this merchant";
    }
    if (!config.merchantSerial().equalsIgnoreCase(params.get("serial_no"))) {
      return "serial_no in Authorization is not the merchant certificate's";
    }
    long timestamp;
    try {
      timestamp = Long.parseLong(params.get("timestamp"));
    } catch (NumberFormatException e) {
      return "timestamp in Authorization is not a number";
    }
    if (Math.abs(System.currentTimeMillis() / 1000 - timestamp) > MAX_CLOCK_SKEW_S) {
      return "timestamp in Authorization is more than 5 minutes off";
    }
    String message = method + "\n" + uri + "\n" + params.get("timestamp") + "\n" + params.get("nonce_str") + "\n"
        + body + "\n";
    if (!verify(config.merchantPublicKey(), message, params.get("signature"))) {
      return "signature in Authorization does not verify";
    }
    return null;
  }

  /**
   * The headers WeChat Pay puts on an answer or a notify: timestamp, nonce, the platform signature over
   * {@code timestamp\nnonce\nbody\n} and the public key id, in the exact capitalisation the SDK looks up.
   */
  Map<String, String> signedHeaders(String body) {
    String timestamp = Long.toString(System.currentTimeMillis() / 1000);
    String nonce = Wire.randomToken(32);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Wechatpay-Timestamp", timestamp);
    headers.put("Wechatpay-Nonce", nonce);
    headers.put("Wechatpay-Signature", sign(config.platformKeyPair().getPrivate(),
        timestamp + "\n" + nonce + "\n" + body + "\n"));
    headers.put("Wechatpay-Serial", config.platformPublicKeyId());
    return headers;
  }

  /** The notify {@code resource}: AES-256-GCM with the APIv3 key, Base64(ciphertext‖tag), a 12-character nonce. */
  Map<String, String> encrypt(String associatedData, String plaintext) {
    String nonce = Wire.randomToken(12);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(config.apiV3Key().getBytes(StandardCharsets.US_ASCII), "AES"),
          new GCMParameterSpec(128, nonce.getBytes(StandardCharsets.US_ASCII)));
      cipher.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
      Map<String, String> resource = new LinkedHashMap<>();
      resource.put("algorithm", "AEAD_AES_256_GCM");
      resource.put("ciphertext", Base64.getEncoder().encodeToString(sealed));
      resource.put("associated_data", associatedData);
      resource.put("nonce", nonce);
      return resource;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM failed", e);
    }
  }

  static String sign(PrivateKey key, String message) {
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initSign(key);
      signature.update(message.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA256withRSA signing failed", e);
    }
  }

  static boolean verify(PublicKey key, String message, String signatureBase64) {
    try {
      Signature signature = Signature.getInstance("SHA256withRSA");
      signature.initVerify(key);
      signature.update(message.getBytes(StandardCharsets.UTF_8));
      return signature.verify(Base64.getDecoder().decode(signatureBase64));
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      return false;
    }
  }
}

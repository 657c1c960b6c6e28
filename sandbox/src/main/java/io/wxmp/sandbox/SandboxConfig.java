package io.wxmp.sandbox;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.List;
import java.util.Objects;

/**
 * Settings of one sandbox: where it listens, the mini-program's appid and secret, the merchant's identity as WeChat
 * Pay knows it (public key and serial only), the WeChat Pay platform key pair and id, the APIv3 key, how fast notify
 * retries run ({@code notifyTimeScale}: 1.0 is the official schedule, 0.001 makes 15 s into 15 ms) and the words
 * that content security judges risky (case-insensitive).
 *
 * @param port 0 picks a free port; read it back with {@link SandboxVerticle#actualPort()}
 */
public record SandboxConfig(String host, int port,
    String appId, String appSecret,
    String mchId, PublicKey merchantPublicKey, String merchantSerial,
    KeyPair platformKeyPair, String platformPublicKeyId,
    String apiV3Key,
    double notifyTimeScale,
    List<String> riskyWords) {

  /** The appid of {@link #defaults}: "wx" and 16 hex digits, like a real one. */
  public static final String DEFAULT_APP_ID = "wx5a4d0b5a4d0b5a4d";
  /** The app secret of {@link #defaults}. */
  public static final String DEFAULT_APP_SECRET = "5a4d0b5a4d0b5a4d0b5a4d0b5a4d0b5a";
  /** The merchant id of {@link #defaults} (WeChat Pay's documentation example). */
  public static final String DEFAULT_MCH_ID = "1900000109";

  public SandboxConfig {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, was " + port);
    }
    requireText(appId, "appId");
    requireText(appSecret, "appSecret");
    requireText(mchId, "mchId");
    Objects.requireNonNull(merchantPublicKey, "merchantPublicKey");
    requireText(merchantSerial, "merchantSerial");
    Objects.requireNonNull(platformKeyPair, "platformKeyPair");
    if (platformPublicKeyId == null || !platformPublicKeyId.matches("PUB_KEY_ID_\\d+")) {
      throw new IllegalArgumentException("platformPublicKeyId must be PUB_KEY_ID_ and digits");
    }
    if (apiV3Key == null || apiV3Key.length() != 32
        || apiV3Key.getBytes(StandardCharsets.UTF_8).length != 32 || !StandardCharsets.US_ASCII.newEncoder().canEncode(apiV3Key)) {
      throw new IllegalArgumentException("apiV3Key must be 32 ASCII characters");
    }
    if (!(notifyTimeScale > 0) || Double.isInfinite(notifyTimeScale)) {
      throw new IllegalArgumentException("notifyTimeScale must be a positive number, was " + notifyTimeScale);
    }
    riskyWords = List.copyOf(riskyWords == null ? List.of() : riskyWords);
  }

  private static void requireText(String value, String name) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + " must not be blank");
    }
  }

  /**
   * The sandbox of a laptop or a test: 127.0.0.1 on a free port, {@link #DEFAULT_APP_ID}/{@link #DEFAULT_APP_SECRET},
   * merchant {@link #DEFAULT_MCH_ID}, the given keys, the official notify schedule, risky words "risky" and "违禁".
   */
  public static SandboxConfig defaults(SandboxKeys keys) {
    return new SandboxConfig("127.0.0.1", 0, DEFAULT_APP_ID, DEFAULT_APP_SECRET, DEFAULT_MCH_ID,
        keys.merchant().getPublic(), keys.merchantSerial(), keys.platform(), keys.platformPublicKeyId(),
        keys.apiV3Key(), 1.0, List.of("risky", "违禁"));
  }

  public SandboxConfig withHost(String host) {
    return new SandboxConfig(host, port, appId, appSecret, mchId, merchantPublicKey, merchantSerial, platformKeyPair,
        platformPublicKeyId, apiV3Key, notifyTimeScale, riskyWords);
  }

  public SandboxConfig withPort(int port) {
    return new SandboxConfig(host, port, appId, appSecret, mchId, merchantPublicKey, merchantSerial, platformKeyPair,
        platformPublicKeyId, apiV3Key, notifyTimeScale, riskyWords);
  }

  public SandboxConfig withApp(String appId, String appSecret) {
    return new SandboxConfig(host, port, appId, appSecret, mchId, merchantPublicKey, merchantSerial, platformKeyPair,
        platformPublicKeyId, apiV3Key, notifyTimeScale, riskyWords);
  }

  public SandboxConfig withMchId(String mchId) {
    return new SandboxConfig(host, port, appId, appSecret, mchId, merchantPublicKey, merchantSerial, platformKeyPair,
        platformPublicKeyId, apiV3Key, notifyTimeScale, riskyWords);
  }

  public SandboxConfig withNotifyTimeScale(double notifyTimeScale) {
    return new SandboxConfig(host, port, appId, appSecret, mchId, merchantPublicKey, merchantSerial, platformKeyPair,
        platformPublicKeyId, apiV3Key, notifyTimeScale, riskyWords);
  }

  public SandboxConfig withRiskyWords(List<String> riskyWords) {
    return new SandboxConfig(host, port, appId, appSecret, mchId, merchantPublicKey, merchantSerial, platformKeyPair,
        platformPublicKeyId, apiV3Key, notifyTimeScale, riskyWords);
  }

  /** Never prints the secret, the APIv3 key or key material. */
  @Override
  public String toString() {
    return "SandboxConfig[host=" + host + ", port=" + port + ", appId=" + appId + ", mchId=" + mchId
        + ", merchantSerial=" + merchantSerial + ", platformPublicKeyId=" + platformPublicKeyId
        + ", notifyTimeScale=" + notifyTimeScale + ", riskyWords=" + riskyWords + "]";
  }
}

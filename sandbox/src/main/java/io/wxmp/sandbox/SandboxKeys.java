package io.wxmp.sandbox;

import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Every secret the sandbox and its clients share, generated fresh in memory (RSA 2048): the merchant key pair and
 * serial, the WeChat Pay platform key pair and its public key id, and the APIv3 key. Nothing is read from disk.
 */
public final class SandboxKeys {
  private static final String ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  private final KeyPair merchant;
  private final String merchantSerial;
  private final KeyPair platform;
  private final String platformPublicKeyId;
  private final String apiV3Key;

  private SandboxKeys(KeyPair merchant, String merchantSerial, KeyPair platform, String platformPublicKeyId,
      String apiV3Key) {
    this.merchant = merchant;
    this.merchantSerial = merchantSerial;
    this.platform = platform;
    this.platformPublicKeyId = platformPublicKeyId;
    this.apiV3Key = apiV3Key;
  }

  /** Fresh keys: two RSA 2048 key pairs, a 40-hex-digit merchant serial, a {@code PUB_KEY_ID_} id, a 32-char APIv3 key. */
  public static SandboxKeys generate() {
    SecureRandom random = new SecureRandom();
    KeyPairGenerator generator;
    try {
      generator = KeyPairGenerator.getInstance("RSA");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no RSA", e);
    }
    generator.initialize(2048, random);
    byte[] serial = new byte[20];
    random.nextBytes(serial);
    StringBuilder keyId = new StringBuilder("PUB_KEY_ID_01");
    while (keyId.length() < "PUB_KEY_ID_".length() + 28) {
      keyId.append(random.nextInt(10));
    }
    return new SandboxKeys(generator.generateKeyPair(), HexFormat.of().withUpperCase().formatHex(serial),
        generator.generateKeyPair(), keyId.toString(), randomAlphanumeric(random, 32));
  }

  static String randomAlphanumeric(SecureRandom random, int length) {
    StringBuilder out = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      out.append(ALPHANUMERIC.charAt(random.nextInt(ALPHANUMERIC.length())));
    }
    return out.toString();
  }

  /** The merchant's key pair: the merchant signs requests and {@code paySign} with the private half. */
  public KeyPair merchant() {
    return merchant;
  }

  /** The merchant certificate serial number the SDK sends as {@code serial_no}. */
  public String merchantSerial() {
    return merchantSerial;
  }

  /** The WeChat Pay platform key pair: the sandbox signs responses and notifies with the private half. */
  public KeyPair platform() {
    return platform;
  }

  /** The id of the WeChat Pay public key ({@code PUB_KEY_ID_} + digits), sent as {@code Wechatpay-Serial}. */
  public String platformPublicKeyId() {
    return platformPublicKeyId;
  }

  /** The APIv3 key (32 ASCII characters) that encrypts notify resources. */
  public String apiV3Key() {
    return apiV3Key;
  }

  /** PEM text of a key: PKCS#8 ({@code PRIVATE KEY}) for a private key, X.509 ({@code PUBLIC KEY}) for a public one. */
  public static String toPem(PrivateKey key) {
    return pem("PRIVATE KEY", key);
  }

  /** PEM text of a key: PKCS#8 ({@code PRIVATE KEY}) for a private key, X.509 ({@code PUBLIC KEY}) for a public one. */
  public static String toPem(PublicKey key) {
    return pem("PUBLIC KEY", key);
  }

  private static String pem(String type, Key key) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
        .encodeToString(key.getEncoded());
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  @Override
  public String toString() {
    return "SandboxKeys[merchantSerial=" + merchantSerial + ", platformPublicKeyId=" + platformPublicKeyId + "]";
  }
}

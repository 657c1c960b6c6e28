package io.wxmp.handlers.feed;

import io.vertx.core.json.JsonArray;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What one served feed slot was: who saw which item where, why, and under which campaign, experiment arm and model.
 * Each FeedItem carries one as its {@code token}; events quote it back, and billing and statistics count an event only
 * when its token verifies for that user and item.
 *
 * <p>Wire form: {@code base64url(payload) "." base64url(HMAC-SHA256(key, payload))}, the payload a JSON array
 * {@code ["1", tokenId, userId, itemId, position, reasonKind, campaignId, experimentId, arm, modelVersion, issuedAtMs]}.
 * The key is the setting {@code WXMP_FEED_TOKEN_KEY}; a token signed under another key, or changed in any byte, does
 * not verify.
 */
public record FeedToken(String tokenId, String userId, String itemId, int position, String reasonKind,
    String campaignId, String experimentId, String arm, String modelVersion, long issuedAtMs) {

  private static final String VERSION = "1";
  /** Longer wire forms are rejected before any decoding. */
  static final int MAX_LENGTH = 1024;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  /** A fresh random token id (128 bits). */
  public static String newTokenId() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return B64.encodeToString(bytes);
  }

  /** {@code n} fresh random token ids, drawn in one read of the random source (a page's worth). */
  public static String[] newTokenIds(int n) {
    byte[] bytes = new byte[16 * n];
    RANDOM.nextBytes(bytes);
    String[] out = new String[n];
    for (int i = 0; i < n; i++) {
      out[i] = B64.encodeToString(java.util.Arrays.copyOfRange(bytes, 16 * i, 16 * i + 16));
    }
    return out;
  }

  /** A fresh random key of 32 bytes (dev mode and tests make one per start). */
  public static byte[] newKey() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return key;
  }

  /** The signed wire form, url-safe base64 without padding. */
  public String sign(byte[] key) {
    byte[] payload = payload().getBytes(StandardCharsets.UTF_8);
    return B64.encodeToString(payload) + "." + B64.encodeToString(mac(key, payload));
  }

  /** The payload's JSON array, as {@code new JsonArray().add(VERSION).add(tokenId)...add(issuedAtMs).encode()}. */
  String payload() {
    StringBuilder p = new StringBuilder(192).append("[\"").append(VERSION).append("\",");
    JsonText.string(p, tokenId).append(',');
    JsonText.string(p, userId).append(',');
    JsonText.string(p, itemId).append(',').append(position).append(',');
    JsonText.string(p, reasonKind).append(',');
    JsonText.string(p, campaignId).append(',');
    JsonText.string(p, experimentId).append(',');
    JsonText.string(p, arm).append(',');
    JsonText.string(p, modelVersion).append(',').append(issuedAtMs);
    return p.append(']').toString();
  }

  /** The token, or null when it is malformed, signed with another key or changed. */
  public static FeedToken verify(String token, byte[] key) {
    if (token == null || token.length() > MAX_LENGTH || key == null) {
      return null;
    }
    int dot = token.indexOf('.');
    if (dot <= 0 || dot != token.lastIndexOf('.')) {
      return null;
    }
    try {
      byte[] payload = B64D.decode(token.substring(0, dot));
      byte[] signature = B64D.decode(token.substring(dot + 1));
      // one wire form per token: base64 whose unused low bits differ decodes to the same bytes, so compare the
      // canonical encoding too (a token changed in any character never verifies)
      if (!B64.encodeToString(payload).equals(token.substring(0, dot))
          || !B64.encodeToString(signature).equals(token.substring(dot + 1))) {
        return null;
      }
      if (!MessageDigest.isEqual(signature, mac(key, payload))) {
        return null;
      }
      JsonArray a = new JsonArray(new String(payload, StandardCharsets.UTF_8));
      if (a.size() != 11 || !VERSION.equals(a.getValue(0))) {
        return null;
      }
      return new FeedToken(a.getString(1), a.getString(2), a.getString(3), a.getInteger(4), a.getString(5),
          a.getString(6), a.getString(7), a.getString(8), a.getString(9), a.getLong(10));
    } catch (RuntimeException e) {
      return null; // bad base64, JSON or types: the same as a forgery to the caller
    }
  }

  /** Each thread's HMAC, initialised with the key it last signed with (a page signs 20 tokens with one key). */
  private static final ThreadLocal<KeyedMac> MACS = new ThreadLocal<>();

  private record KeyedMac(byte[] key, Mac mac) {}

  private static byte[] mac(byte[] key, byte[] payload) {
    KeyedMac m = MACS.get();
    if (m == null || !java.util.Arrays.equals(m.key(), key)) {
      try {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        m = new KeyedMac(key.clone(), mac);
        MACS.set(m);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 is not available", e);
      }
    }
    return m.mac().doFinal(payload); // doFinal leaves the Mac reset, with its key, for the next token
  }
}

package io.wxmp.sandbox;

import java.util.HashMap;
import java.util.Map;

/**
 * The simulated WeChat users and the one-use codes the control API hands out for them (a login code for
 * {@code jscode2session}, a phone code for {@code getuserphonenumber}); both live five minutes, as WeChat's do.
 * Touched only on the sandbox's event loop.
 */
final class WxUsers {
  static final long CODE_TTL_MS = 5 * 60 * 1000;

  /** A WeChat user as this mini-program sees them. */
  static final class User {
    final String openid;
    String unionid;
    String phone;
    boolean subscribed = true;

    User(String openid) {
      this.openid = openid;
    }
  }

  /** A one-use code. */
  static final class Code {
    final String openid;
    final long expiresAt;
    boolean used;

    Code(String openid, long expiresAt) {
      this.openid = openid;
      this.expiresAt = expiresAt;
    }
  }

  private final Map<String, User> users = new HashMap<>();
  private final Map<String, Code> loginCodes = new HashMap<>();
  private final Map<String, Code> phoneCodes = new HashMap<>();

  User user(String openid) {
    return users.get(openid);
  }

  /** The user with this openid, created when new; a new random openid when null. */
  User getOrCreate(String openid) {
    String id = openid == null || openid.isBlank() ? newOpenid() : openid;
    return users.computeIfAbsent(id, User::new);
  }

  String issueLoginCode(User user, long now) {
    String code = "0" + Wire.randomToken(31);
    loginCodes.put(code, new Code(user.openid, now + CODE_TTL_MS));
    return code;
  }

  String issuePhoneCode(User user, long now) {
    String code = Wire.randomToken(64).toLowerCase(java.util.Locale.ROOT);
    phoneCodes.put(code, new Code(user.openid, now + CODE_TTL_MS));
    return code;
  }

  Code loginCode(String code) {
    return code == null ? null : loginCodes.get(code);
  }

  Code phoneCode(String code) {
    return code == null ? null : phoneCodes.get(code);
  }

  /** Forgets codes that expired a while ago, so a long dev session does not grow without bound. */
  void prune(long now) {
    loginCodes.values().removeIf(c -> c.expiresAt + CODE_TTL_MS < now);
    phoneCodes.values().removeIf(c -> c.expiresAt + CODE_TTL_MS < now);
  }

  private static String newOpenid() {
    // Real openids are 28 characters starting with "o", base64url alphabet.
    return "o" + Wire.randomToken(27);
  }

  static String newPhone() {
    StringBuilder phone = new StringBuilder("138");
    for (int i = 0; i < 8; i++) {
      phone.append(Wire.RANDOM.nextInt(10));
    }
    return phone.toString();
  }
}

package io.wxmp.handlers.admin;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;

/** Argon2id (password4j) with OWASP's minimum parameters: 19 MiB, 2 passes, 1 lane. CPU-heavy: call off the event loop. */
public final class Passwords {
  private static final Argon2Function ARGON2 = Argon2Function.getInstance(19_456, 2, 1, 32, Argon2.ID);
  /** Checked against when the username is unknown, so both failures take the same time. */
  private static final String DUMMY_HASH = hash("not-a-real-password");

  private static final String ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
  /** The shortest password an account may choose (API.md: {@code POST /admin/password}). */
  public static final int MIN_LENGTH = 12;

  private Passwords() {}

  /** A one-time password to hand out once (an operator's, a new account's): 16 characters, about 92 bits. */
  public static String oneTime() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }

  public static String hash(String password) {
    return Password.hash(password).addRandomSalt(16).with(ARGON2).getResult();
  }

  public static boolean matches(String password, String hash) {
    if (hash == null) {
      Password.check(password, DUMMY_HASH).with(ARGON2);
      return false;
    }
    return Password.check(password, hash).with(Argon2Function.getInstanceFromHash(hash));
  }
}

package io.wxmp.handlers.admin;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;

/** Argon2id (password4j) with OWASP's minimum parameters: 19 MiB, 2 passes, 1 lane. CPU-heavy: call off the event loop. */
public final class Passwords {
  private static final Argon2Function ARGON2 = Argon2Function.getInstance(19_456, 2, 1, 32, Argon2.ID);
  /** Checked against when the username is unknown, so both failures take the same time. */
  private static final String DUMMY_HASH = hash("not-a-real-password");

  private Passwords() {}

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

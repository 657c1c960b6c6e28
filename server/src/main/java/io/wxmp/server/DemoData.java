package io.wxmp.server;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.admin.Passwords;
import java.security.SecureRandom;
import java.util.List;

/**
 * Dev-mode demo data: one merchant with an owner, an editor and an analyst account. The password is made fresh at
 * every start and printed, so none is written in code or docs.
 */
final class DemoData {
  static final String MERCHANT_NAME = "Demo Knowledge Shop";
  static final List<String> ACCOUNTS = List.of("demo-owner", "demo-editor", "demo-analyst");
  private static final String ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

  private DemoData() {}

  record Seeded(long merchantId, String password) {}

  /** Runs on a worker thread (password hashing). */
  static Future<Seeded> seed(Pool pg, io.vertx.core.Vertx vertx) {
    String password = randomPassword();
    return vertx.executeBlocking(() -> Passwords.hash(password), false).compose(hash -> pg.withTransaction(tx ->
        tx.preparedQuery("SELECT merchant_id FROM merchant_accounts WHERE username = $1")
            .execute(Tuple.of(ACCOUNTS.get(0)))
            .compose(rows -> rows.size() > 0
                ? Future.succeededFuture(rows.iterator().next().getLong(0))
                : tx.preparedQuery("INSERT INTO merchants (name) VALUES ($1) RETURNING id")
                    .execute(Tuple.of(MERCHANT_NAME)).map(r -> r.iterator().next().getLong(0)))
            .compose(merchantId -> tx.preparedQuery("""
                    INSERT INTO merchant_accounts (merchant_id, username, password_hash, role) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (lower(username)) DO UPDATE SET password_hash = EXCLUDED.password_hash""")
                .executeBatch(List.of(
                    Tuple.of(merchantId, ACCOUNTS.get(0), hash, "owner"),
                    Tuple.of(merchantId, ACCOUNTS.get(1), hash, "editor"),
                    Tuple.of(merchantId, ACCOUNTS.get(2), hash, "analyst")))
                .map(done -> new Seeded(merchantId, password)))));
  }

  private static String randomPassword() {
    SecureRandom random = new SecureRandom();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 14; i++) {
      sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }
}

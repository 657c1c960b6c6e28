package io.wxmp.server;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.admin.Passwords;
import io.wxmp.handlers.platform.OperatorRepository;
import io.wxmp.handlers.quiz.QuizRepository;
import io.wxmp.handlers.quiz.QuizRepository.NewChoice;
import io.wxmp.handlers.quiz.QuizRepository.NewQuestion;
import java.security.SecureRandom;
import java.util.List;

/**
 * Dev-mode demo data: a platform operator, one merchant with an owner, an editor and an analyst account, a few published items (a free
 * article, a paid article, a paid course, a membership) to buy through the sandbox, and a published demo quiz. The
 * password is made fresh at every start and printed, so none is written in code or docs. Items are added only when
 * the merchant has none; the quiz only when it is missing.
 */
final class DemoData {
  static final String MERCHANT_NAME = "Demo Knowledge Shop";
  static final List<String> ACCOUNTS = List.of("demo-owner", "demo-editor", "demo-analyst");
  static final String OPERATOR = "demo-operator";
  static final String QUIZ_TITLE = "中国茶文化小测验 (demo)";
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
                .compose(done -> seedItems(tx, merchantId))
                .compose(done -> new OperatorRepository(tx).upsertPassword(OPERATOR, hash))
                .map(done -> new Seeded(merchantId, password)))))
        .compose(seeded -> seedQuiz(pg, seeded.merchantId()).map(seeded));
  }

  /**
   * The demo quiz, once. Checking before inserting is safe here: dev mode seeds at start-up, from the one process
   * that owns the data folder.
   */
  static Future<Void> seedQuiz(Pool pg, long merchantId) {
    List<NewQuestion> questions = List.of(
        new NewQuestion("龙井茶产自哪里？", List.of("tea", "culture"), List.of(
            new NewChoice("杭州", true), new NewChoice("福州", false), new NewChoice("昆明", false))),
        new NewQuestion("普洱茶属于哪一类茶？", List.of("tea"), List.of(
            new NewChoice("绿茶", false), new NewChoice("黑茶", true), new NewChoice("白茶", false))),
        new NewQuestion("《茶经》的作者是谁？", List.of("culture", "history"), List.of(
            new NewChoice("陆羽", true), new NewChoice("李白", false), new NewChoice("苏轼", false))));
    return pg.preparedQuery("SELECT 1 FROM quizzes WHERE merchant_id = $1 AND title = $2")
        .execute(Tuple.of(merchantId, QUIZ_TITLE))
        .compose(rows -> rows.size() > 0 ? Future.<Void>succeededFuture() : new QuizRepository(pg).create(merchantId,
                new QuizRepository.QuizFields(QUIZ_TITLE, 60, 3, 10, null, null, "published"), questions)
            .<Void>mapEmpty());
  }

  private static Future<Void> seedItems(io.vertx.sqlclient.SqlConnection tx, long merchantId) {
    return tx.preparedQuery("""
            INSERT INTO items (merchant_id, kind, title, summary, body, preview, tags, price_fen, membership_days, status)
            SELECT $1, v.kind, v.title, v.summary, v.body, v.preview, v.tags, v.price_fen, v.days, 'published'
            FROM (VALUES
              ('article', 'Welcome to the demo shop', 'A free article: no payment needed.',
               'Everything here runs locally against the WeChat sandbox.', NULL, ARRAY['demo','free'], NULL::bigint,
               NULL::int),
              ('article', 'Reactive backends in practice', 'A paid article (1.00 CNY).',
               'The full text: futures, event loops and exactly-once payments.', 'The first paragraph, for free.',
               ARRAY['vertx','backend'], 100, NULL),
              ('course', 'WeChat Pay from zero', 'A paid course (9.90 CNY).',
               'Lesson 1: prepay. Lesson 2: notifies. Lesson 3: reconciliation.', 'Lesson 1 is free.',
               ARRAY['wechat','pay'], 990, NULL),
              ('membership', 'Demo shop membership (30 days)', 'Every paid item of this shop for 30 days.',
               'Thank you for being a member.', NULL, ARRAY['membership'], 1990, 30)
            ) AS v(kind, title, summary, body, preview, tags, price_fen, days)
            WHERE NOT EXISTS (SELECT 1 FROM items WHERE merchant_id = $1)""")
        .execute(Tuple.of(merchantId)).mapEmpty();
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

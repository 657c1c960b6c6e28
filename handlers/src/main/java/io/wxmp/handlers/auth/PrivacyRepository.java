package io.wxmp.handlers.auth;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.FieldCipher;
import io.wxmp.handlers.common.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * SQL for the user's privacy rights (PIPL): everything held about a user as one document, and erasure. Erasure deletes
 * the user's rows from every table that holds personal data, moves the orders (accounting records) to a fresh
 * anonymous users row, re-points whatever else still references the user there, and deletes the user's row, all in one
 * transaction: a later login with the same WeChat account makes a new user.
 */
public final class PrivacyRepository {
  private static final String PROFILE = """
      SELECT id, openid, unionid, nickname, avatar_url, phone, created_at, last_login_at FROM users WHERE id = $1""";
  private static final String ORDERS = """
      SELECT o.id, o.item_id, i.title, o.amount_fen, o.status, o.refunded_fen, o.created_at, o.paid_at,
             COALESCE((SELECT jsonb_agg(jsonb_build_object('amount', r.amount_fen, 'status', r.status,
                        'reason', r.reason, 'createdAt', r.created_at) ORDER BY r.id)
                       FROM refunds r WHERE r.order_id = o.id), '[]'::jsonb) AS refunds
      FROM orders o JOIN items i ON i.id = o.item_id WHERE o.user_id = $1 ORDER BY o.id""";
  private static final String POINTS = """
      SELECT delta, reason, source_key, created_at FROM points_ledger WHERE user_id = $1 ORDER BY id""";
  private static final String ATTEMPTS = """
      SELECT a.id, a.quiz_id, q.title, a.attempt_no, a.started_at, a.deadline, a.submitted_at, a.score, a.total,
             a.duration_ms, a.points_awarded,
             COALESCE((SELECT jsonb_agg(jsonb_build_object('questionId', x.question_id::text,
                        'choiceId', x.choice_id::text, 'correct', x.correct))
                       FROM quiz_attempt_answers x WHERE x.attempt_id = a.id), '[]'::jsonb) AS answers
      FROM quiz_attempts a JOIN quizzes q ON q.id = a.quiz_id WHERE a.user_id = $1 ORDER BY a.id""";
  private static final String INTERESTS = """
      SELECT tag, sum(weight) AS weight, count(*) AS signals FROM user_interest_events WHERE user_id = $1
      GROUP BY tag ORDER BY sum(weight) DESC, tag""";
  private static final String MEMBERSHIPS = """
      SELECT merchant_id, member_until FROM memberships WHERE user_id = $1 ORDER BY merchant_id""";
  private static final String CONSENTS = """
      SELECT template_id, granted_at, used_at FROM subscribe_consents WHERE user_id = $1 ORDER BY id""";
  private static final String NOTIFICATIONS = """
      SELECT kind, template_id, status, created_at, sent_at FROM notifications WHERE user_id = $1 ORDER BY id""";
  private static final String MEDIA = """
      SELECT id, content_type, size_bytes, created_at FROM media WHERE owner_user_id = $1 ORDER BY created_at""";
  private static final String TABLE_EXISTS = "SELECT to_regclass($1) IS NOT NULL";
  /** Client events (the events feature's table), when it exists. */
  private static final String EVENTS = """
      SELECT item_id, type, at, dwell_ms FROM events WHERE user_id = $1 ORDER BY at DESC LIMIT 100000""";
  private static final String QUIZZES_PLAYED = "SELECT DISTINCT quiz_id FROM quiz_attempts WHERE user_id = $1";

  /** Rows that are the user's personal data, deleted on erasure (children before parents). */
  private static final List<String> ERASE = List.of(
      "DELETE FROM quiz_attempt_answers WHERE attempt_id IN (SELECT id FROM quiz_attempts WHERE user_id = $1)",
      "DELETE FROM quiz_attempts WHERE user_id = $1",
      "DELETE FROM points_ledger WHERE user_id = $1",
      "DELETE FROM memberships WHERE user_id = $1",
      "DELETE FROM entitlements WHERE user_id = $1",
      "DELETE FROM user_interest_events WHERE user_id = $1",
      "DELETE FROM subscribe_consents WHERE user_id = $1",
      "DELETE FROM notifications WHERE user_id = $1",
      "DELETE FROM media WHERE owner_user_id = $1");
  /**
   * Other features' tables that hold the user's personal data without a foreign key, by table: run when the table
   * exists (events and its dedup keys; the user as the sharer in others' share opens).
   */
  private static final List<String[]> ERASE_IF_PRESENT = List.of(
      new String[] {"events", "DELETE FROM events WHERE user_id = $1"},
      new String[] {"events", "UPDATE events SET ref_user_id = NULL WHERE ref_user_id = $1"},
      new String[] {"event_ids", "DELETE FROM event_ids WHERE user_id = $1"});
  private static final String NEW_ANONYMOUS = """
      INSERT INTO users (openid, erased_at) VALUES ('erased:' || gen_random_uuid(), now()) RETURNING id""";
  private static final String MOVE_ORDERS = "UPDATE orders SET user_id = $2 WHERE user_id = $1";
  /** Every other foreign key to users: its rows follow the orders to the anonymous row (none hold personal data). */
  private static final String REFERENCES = """
      SELECT c.conrelid::regclass::text AS tbl, a.attname AS col
      FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      WHERE c.contype = 'f' AND c.confrelid = 'users'::regclass AND array_length(c.conkey, 1) = 1""";
  private static final String DELETE_USER = "DELETE FROM users WHERE id = $1";

  private final Pool pg;
  private final FieldCipher phoneCipher;

  public PrivacyRepository(Pool pg, FieldCipher phoneCipher) {
    this.pg = pg;
    this.phoneCipher = phoneCipher;
  }

  /** Everything held about the user (API.md {@code GET /me/export}); null when the user is gone. */
  public Future<JsonObject> export(long userId) {
    Tuple id = Tuple.of(userId);
    return pg.preparedQuery(PROFILE).execute(id).compose(profileRows -> {
      if (profileRows.size() == 0) {
        return Future.succeededFuture(null);
      }
      Row p = profileRows.iterator().next();
      JsonObject profile = new JsonObject()
          .put("id", Json.id(p.getLong("id")))
          .put("openid", p.getString("openid"))
          .put("unionid", p.getString("unionid"))
          .put("nickname", p.getString("nickname"))
          .put("avatarUrl", p.getString("avatar_url"))
          .put("phone", phoneCipher.decrypt(p.getString("phone")))
          .put("createdAt", Json.time(p.getOffsetDateTime("created_at")))
          .put("lastLoginAt", Json.time(p.getOffsetDateTime("last_login_at")));
      Future<JsonArray> orders = list(ORDERS, id, r -> new JsonObject()
          .put("id", Json.id(r.getLong("id")))
          .put("itemId", Json.id(r.getLong("item_id")))
          .put("itemTitle", r.getString("title"))
          .put("amount", Json.money(r.getLong("amount_fen")))
          .put("status", r.getString("status"))
          .put("refunded", Json.money(r.getLong("refunded_fen")))
          .put("createdAt", Json.time(r.getOffsetDateTime("created_at")))
          .put("paidAt", Json.time(r.getOffsetDateTime("paid_at")))
          .put("refunds", r.getValue("refunds")));
      Future<JsonArray> points = list(POINTS, id, r -> new JsonObject()
          .put("delta", r.getInteger("delta"))
          .put("reason", r.getString("reason"))
          .put("source", r.getString("source_key"))
          .put("at", Json.time(r.getOffsetDateTime("created_at"))));
      Future<JsonArray> attempts = list(ATTEMPTS, id, r -> new JsonObject()
          .put("attemptId", Json.id(r.getLong("id")))
          .put("quizId", Json.id(r.getLong("quiz_id")))
          .put("quizTitle", r.getString("title"))
          .put("attemptNo", r.getInteger("attempt_no"))
          .put("startedAt", Json.time(r.getOffsetDateTime("started_at")))
          .put("deadline", Json.time(r.getOffsetDateTime("deadline")))
          .put("submittedAt", Json.time(r.getOffsetDateTime("submitted_at")))
          .put("score", r.getInteger("score"))
          .put("total", r.getInteger("total"))
          .put("durationMs", r.getLong("duration_ms"))
          .put("pointsAwarded", r.getInteger("points_awarded"))
          .put("answers", r.getValue("answers")));
      Future<JsonArray> interests = list(INTERESTS, id, r -> new JsonObject()
          .put("tag", r.getString("tag"))
          .put("weight", r.getDouble("weight"))
          .put("signals", r.getLong("signals")));
      Future<JsonArray> memberships = list(MEMBERSHIPS, id, r -> new JsonObject()
          .put("merchantId", Json.id(r.getLong("merchant_id")))
          .put("memberUntil", Json.time(r.getOffsetDateTime("member_until"))));
      Future<JsonArray> consents = list(CONSENTS, id, r -> new JsonObject()
          .put("templateId", r.getString("template_id"))
          .put("grantedAt", Json.time(r.getOffsetDateTime("granted_at")))
          .put("usedAt", Json.time(r.getOffsetDateTime("used_at"))));
      Future<JsonArray> notifications = list(NOTIFICATIONS, id, r -> new JsonObject()
          .put("kind", r.getString("kind"))
          .put("templateId", r.getString("template_id"))
          .put("status", r.getString("status"))
          .put("createdAt", Json.time(r.getOffsetDateTime("created_at")))
          .put("sentAt", Json.time(r.getOffsetDateTime("sent_at"))));
      Future<JsonArray> media = list(MEDIA, id, r -> new JsonObject()
          .put("id", r.getString("id"))
          .put("contentType", r.getString("content_type"))
          .put("sizeBytes", r.getInteger("size_bytes"))
          .put("createdAt", Json.time(r.getOffsetDateTime("created_at"))));
      Future<JsonArray> events = exists(pg, "events").compose(present -> !present
          ? Future.succeededFuture(new JsonArray())
          : list(EVENTS, id, r -> new JsonObject()
              .put("itemId", Json.id(r.getLong("item_id")))
              .put("type", r.getString("type"))
              .put("at", Json.time(r.getOffsetDateTime("at")))
              .put("dwellMs", r.getValue("dwell_ms"))));
      return Future.all(List.of(orders, points, attempts, interests, memberships, consents, notifications, media,
              events))
          .map(all -> new JsonObject()
              .put("profile", profile)
              .put("orders", orders.result())
              .put("points", new JsonObject().put("balance", sum(points.result())).put("ledger", points.result()))
              .put("memberships", memberships.result())
              .put("attempts", attempts.result())
              .put("events", events.result())
              .put("interests", interests.result())
              .put("subscriptions", consents.result())
              .put("notifications", notifications.result())
              .put("media", media.result()));
    });
  }

  /** The quizzes whose leaderboards hold the user (cleaned in Redis before the rows go). */
  public Future<List<Long>> quizzesPlayed(long userId) {
    return pg.preparedQuery(QUIZZES_PLAYED).execute(Tuple.of(userId)).map(rows -> {
      List<Long> out = new ArrayList<>();
      rows.forEach(r -> out.add(r.getLong(0)));
      return out;
    });
  }

  /** Erases the user (see the class comment); false when there was no such user (erased already). */
  public Future<Boolean> erase(long userId) {
    Tuple id = Tuple.of(userId);
    return pg.withTransaction(tx -> tx.preparedQuery("SELECT 1 FROM users WHERE id = $1 FOR UPDATE").execute(id)
        .compose(found -> {
          if (found.size() == 0) {
            return Future.succeededFuture(false);
          }
          Future<Void> chain = Future.succeededFuture();
          for (String sql : ERASE) {
            chain = chain.compose(v -> tx.preparedQuery(sql).execute(id).mapEmpty());
          }
          for (String[] step : ERASE_IF_PRESENT) {
            chain = chain.compose(v -> exists(tx, step[0]).compose(present -> !present ? Future.<Void>succeededFuture()
                : tx.preparedQuery(step[1]).execute(id).mapEmpty()));
          }
          return chain
              .compose(v -> tx.preparedQuery(NEW_ANONYMOUS).execute(Tuple.tuple()))
              .map(rows -> rows.iterator().next().getLong(0))
              .compose(anonymous -> tx.preparedQuery(MOVE_ORDERS).execute(Tuple.of(userId, anonymous))
                  .compose(v -> tx.query(REFERENCES).execute())
                  .compose(refs -> {
                    Future<Void> moved = Future.succeededFuture();
                    for (Row ref : refs) {
                      String sql = "UPDATE " + ref.getString("tbl") + " SET " + quote(ref.getString("col"))
                          + " = $2 WHERE " + quote(ref.getString("col")) + " = $1";
                      moved = moved.compose(v -> tx.preparedQuery(sql).execute(Tuple.of(userId, anonymous))
                          .mapEmpty());
                    }
                    return moved;
                  }))
              .compose(v -> tx.preparedQuery(DELETE_USER).execute(id))
              .map(true);
        }));
  }

  private static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  private static Future<Boolean> exists(SqlClient client, String table) {
    return client.preparedQuery(TABLE_EXISTS).execute(Tuple.of("public." + table))
        .map(rows -> rows.iterator().next().getBoolean(0));
  }

  private Future<JsonArray> list(String sql, Tuple args, Function<Row, JsonObject> view) {
    return pg.preparedQuery(sql).execute(args).map((RowSet<Row> rows) -> {
      JsonArray out = new JsonArray();
      rows.forEach(r -> out.add(view.apply(r)));
      return out;
    });
  }

  private static long sum(JsonArray ledger) {
    long total = 0;
    for (int i = 0; i < ledger.size(); i++) {
      total += ledger.getJsonObject(i).getInteger("delta");
    }
    return total;
  }
}

package io.wxmp.handlers.auth;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;

/**
 * SQL for WeChat users and the profile that {@code GET /me} shows. The points balance is {@code users.points}, which
 * a trigger keeps equal to the sum of the user's {@code points_ledger} rows (V5).
 */
public final class UserRepository {
  /** Insert-or-touch in one statement: 50 concurrent first logins of one openid make exactly one row. */
  private static final String UPSERT_BY_OPENID = """
      INSERT INTO users (openid, unionid) VALUES ($1, $2)
      ON CONFLICT (openid) DO UPDATE
        SET unionid = COALESCE(EXCLUDED.unionid, users.unionid), last_login_at = now()
      RETURNING id, nickname, avatar_url, phone IS NOT NULL AS phone_bound, (xmax = 0) AS is_new""";
  private static final String PROFILE = """
      SELECT u.id, u.nickname, u.avatar_url, u.phone IS NOT NULL AS phone_bound, u.personalised, u.points,
             (SELECT max(member_until) FROM memberships m WHERE m.user_id = u.id AND m.member_until > now())
               AS member_until
      FROM users u WHERE u.id = $1""";
  private static final String SET_PHONE = "UPDATE users SET phone = $2 WHERE id = $1";
  private static final String UPDATE_PROFILE = """
      UPDATE users SET nickname = COALESCE($2, nickname), avatar_url = COALESCE($3, avatar_url),
                       personalised = COALESCE($4, personalised) WHERE id = $1""";

  private final Pool pg;

  public UserRepository(Pool pg) {
    this.pg = pg;
  }

  public record LoginRow(long id, String nickname, String avatarUrl, boolean phoneBound, boolean isNew) {}

  public record Profile(long id, String nickname, String avatarUrl, boolean phoneBound, long points,
      OffsetDateTime memberUntil, boolean personalised) {}

  public Future<LoginRow> upsertByOpenid(String openid, String unionid) {
    return pg.preparedQuery(UPSERT_BY_OPENID).execute(Tuple.of(openid, unionid)).map(rows -> {
      Row r = rows.iterator().next();
      return new LoginRow(r.getLong("id"), r.getString("nickname"), r.getString("avatar_url"),
          r.getBoolean("phone_bound"), r.getBoolean("is_new"));
    });
  }

  public Future<Profile> profile(long userId) {
    return pg.preparedQuery(PROFILE).execute(Tuple.of(userId)).map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row r = rows.iterator().next();
      return new Profile(r.getLong("id"), r.getString("nickname"), r.getString("avatar_url"),
          r.getBoolean("phone_bound"), r.getLong("points"), r.getOffsetDateTime("member_until"),
          r.getBoolean("personalised"));
    });
  }

  public Future<Void> setPhone(long userId, String phone) {
    return pg.preparedQuery(SET_PHONE).execute(Tuple.of(userId, phone)).mapEmpty();
  }

  /** Null arguments leave their column as it is. */
  public Future<Void> updateProfile(long userId, String nickname, String avatarUrl, Boolean personalised) {
    return pg.preparedQuery(UPDATE_PROFILE).execute(Tuple.of(userId, nickname, avatarUrl, personalised)).mapEmpty();
  }
}

package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** SQL the feed reads per request: the user's flags and ownership, the catalogue pages, what the user owns. */
public final class FeedRepository {
  /** The user's quiz interests, strongest first (the durable copy of the interest tags in the online state). */
  private static final String INTERESTS = """
      SELECT tag FROM user_interest_events WHERE user_id = $1 GROUP BY tag ORDER BY sum(weight) DESC, tag LIMIT $2""";
  private static final String USER = """
      SELECT u.personalised, u.created_at,
             ARRAY(SELECT e.item_id FROM entitlements e WHERE e.user_id = u.id AND e.revoked_at IS NULL) AS owned,
             ARRAY(SELECT m.merchant_id FROM memberships m WHERE m.user_id = u.id AND m.member_until > now()
                   ORDER BY m.merchant_id) AS member_of,
             ARRAY(SELECT (extract(epoch FROM m.member_until) * 1000)::bigint FROM memberships m
                   WHERE m.user_id = u.id AND m.member_until > now() ORDER BY m.merchant_id) AS member_until
      FROM users u WHERE u.id = $1""";
  private static final String ITEMS = """
      SELECT i.id, i.merchant_id, i.kind, i.title, i.summary, i.cover_url, i.tags, i.price_fen, i.created_at
      FROM items i JOIN merchants m ON m.id = i.merchant_id
      WHERE i.status = 'published' AND m.status = 'active' AND ($1::text IS NULL OR $1 = ANY (i.tags))
        AND ($2::text IS NULL OR i.kind = $2) AND ($3::bigint IS NULL OR i.id < $3)
      ORDER BY i.id DESC LIMIT $4""";
  /**
   * What the user owns: bought items (even archived ones, as GET /items/{id} opens them) and the published paid items
   * of merchants whose membership runs (not the membership items themselves). One row per item, a purchase first.
   */
  private static final String OWNED = """
      SELECT * FROM (
        SELECT DISTINCT ON (i.id) i.id, i.merchant_id, i.kind, i.title, i.summary, i.cover_url, i.tags, i.price_fen,
               i.created_at, o.source, o.since
        FROM (
          SELECT e.item_id, 'purchase' AS source, e.granted_at AS since, 0 AS pref
          FROM entitlements e WHERE e.user_id = $1 AND e.revoked_at IS NULL
          UNION ALL
          SELECT i2.id, 'membership', (SELECT max(e2.granted_at) FROM entitlements e2 JOIN items mi ON mi.id = e2.item_id
                                        WHERE e2.user_id = $1 AND mi.merchant_id = ms.merchant_id
                                          AND mi.kind = 'membership'), 1
          FROM memberships ms JOIN items i2 ON i2.merchant_id = ms.merchant_id
          JOIN merchants mm ON mm.id = ms.merchant_id
          WHERE ms.user_id = $1 AND ms.member_until > now() AND i2.status = 'published' AND i2.price_fen IS NOT NULL
            AND i2.kind <> 'membership' AND mm.status = 'active'
        ) o JOIN items i ON i.id = o.item_id
        WHERE $2::bigint IS NULL OR i.id < $2
        ORDER BY i.id DESC, o.pref
      ) x ORDER BY id DESC LIMIT $3""";

  /** The user's flags and ownership, as a page needs them. */
  public record UserState(boolean personalised, Instant joinedAt, Set<Long> owned, Set<Long> memberOf) {}

  /**
   * What {@link UserState} is made of, kept as read (a feed page's copy in Redis, see {@link FeedUsers}): the
   * memberships with their ends in epoch ms, so one that runs out drops at the time it is read.
   */
  public record UserRow(boolean personalised, Instant joinedAt, Set<Long> owned, Map<Long, Long> memberUntilMs) {
    public UserState state(long nowMs) {
      Set<Long> memberOf = new HashSet<>();
      memberUntilMs.forEach((merchant, until) -> {
        if (until > nowMs) {
          memberOf.add(merchant);
        }
      });
      return new UserState(personalised, joinedAt, owned, memberOf);
    }
  }

  /** One owned item with how and since when. */
  public record Owned(CatalogueItem item, String source, OffsetDateTime since) {}

  private final Pool pg;

  public FeedRepository(Pool pg) {
    this.pg = pg;
  }

  /** Null when the user no longer exists. */
  public Future<UserState> user(long userId) {
    return userRow(userId).map(r -> r == null ? null : r.state(System.currentTimeMillis()));
  }

  /** Null when the user no longer exists. */
  public Future<UserRow> userRow(long userId) {
    return pg.preparedQuery(USER).execute(Tuple.of(userId)).map(rs -> {
      if (rs.size() == 0) {
        return null;
      }
      Row r = rs.iterator().next();
      Long[] merchants = r.getArrayOfLongs("member_of");
      Long[] until = r.getArrayOfLongs("member_until");
      Map<Long, Long> memberUntil = new HashMap<>();
      for (int i = 0; merchants != null && until != null && i < Math.min(merchants.length, until.length); i++) {
        memberUntil.put(merchants[i], until[i]);
      }
      return new UserRow(r.getBoolean("personalised"), r.getOffsetDateTime("created_at").toInstant(),
          longs(r.getArrayOfLongs("owned")), memberUntil);
    });
  }

  /** Up to {@code limit} tags of the user's quiz answers, strongest first. */
  public Future<Set<String>> interestTags(long userId, int limit) {
    return pg.preparedQuery(INTERESTS).execute(Tuple.of(userId, limit)).map(rs -> {
      Set<String> out = new java.util.LinkedHashSet<>();
      rs.forEach(r -> out.add(r.getString(0)));
      return out;
    });
  }

  public Future<List<CatalogueItem>> items(String tag, String kind, Long beforeId, int limit) {
    return pg.preparedQuery(ITEMS).execute(Tuple.of(tag, kind, beforeId, limit)).map(rs -> {
      List<CatalogueItem> out = new ArrayList<>();
      rs.forEach(r -> out.add(Catalogue.of(r)));
      return out;
    });
  }

  public Future<List<Owned>> owned(long userId, Long beforeId, int limit) {
    return pg.preparedQuery(OWNED).execute(Tuple.of(userId, beforeId, limit)).map(rs -> {
      List<Owned> out = new ArrayList<>();
      rs.forEach(r -> out.add(new Owned(Catalogue.of(r), r.getString("source"), r.getOffsetDateTime("since"))));
      return out;
    });
  }

  private static Set<Long> longs(Long[] values) {
    Set<Long> out = new HashSet<>();
    if (values != null) {
      for (Long v : values) {
        out.add(v);
      }
    }
    return out;
  }
}

package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the sponsored entries of one feed page: the campaigns that run now (active, in their window, item published,
 * merchant active: this server's {@link ActiveCampaigns} copy), the item not owned by the user, whose targeting
 * matches the user, ranked by expected value per impression, then reserved in {@link Budgets} (frequency cap, total
 * and daily budget, pace) in rank order until the page's sponsored places are filled, in one Redis script call per
 * page. At most 2 in a page of 20. Never fails the page: on any trouble it answers none.
 */
public final class Serving {
  private static final Logger log = LoggerFactory.getLogger(Serving.class);
  /** The CTR prior: 2 clicks in 100 impressions, which a campaign's own history outweighs as it grows. */
  static final double PRIOR_CLICKS = 2;
  static final double PRIOR_IMPRESSIONS = 100;
  /** How much user–item similarity moves a CPC campaign's predicted CTR (factor 1 ± this). */
  static final double SIMILARITY_WEIGHT = 0.5;
  /** Positions (indices in the page) of the sponsored places, 10 apart. */
  static final int FIRST_POSITION = 2;
  static final int SPACING = 10;

  /**
   * What serving must know of the user when the feed did not say: when they joined, the items they bought and the
   * merchants whose membership runs (membership-opened items count as owned, like on the item page).
   */
  static final String USER = """
      SELECT u.created_at,
             ARRAY(SELECT e.item_id FROM entitlements e WHERE e.user_id = u.id AND e.revoked_at IS NULL) AS owned,
             ARRAY(SELECT m.merchant_id FROM memberships m WHERE m.user_id = u.id AND m.member_until > $2) AS member_of
      FROM users u WHERE u.id = $1""";
  /** How often a page may find the campaigns changed under it and start again before it goes without. */
  private static final int RETRIES = 2;

  private final Pool pg;
  private final ActiveCampaigns active;
  private final Budgets budgets;
  private final Clock clock;
  private final long timeoutMs;

  public Serving(Pool pg, RedisAPI redis, Budgets budgets, Clock clock, long timeoutMs, long campaignsTtlMs) {
    this.pg = pg;
    this.active = new ActiveCampaigns(pg, redis, clock, campaignsTtlMs);
    this.budgets = budgets;
    this.clock = clock;
    this.timeoutMs = timeoutMs;
  }

  /**
   * What the feed knows about the user and the page. {@code owned} (items bought) and {@code memberOf} (merchants
   * whose membership runs) are null when the caller does not know them; so is {@code joinedAt}: then they are read.
   * {@code versionAtStart} is the campaigns' version as read with the page's first reads (null when it was not):
   * a page with nothing to reserve whose copy of the campaigns is at that version needs no check of its own, since
   * any campaign written before the page started had moved it.
   */
  public record Ask(long userId, boolean personalised, Set<String> interestTags, Instant joinedAt,
      Set<Long> excludeItemIds, int pageSize, Set<Long> owned, Set<Long> memberOf, String versionAtStart) {
    public Ask(long userId, boolean personalised, Set<String> interestTags, Instant joinedAt,
        Set<Long> excludeItemIds, int pageSize, Set<Long> owned, Set<Long> memberOf) {
      this(userId, personalised, interestTags, joinedAt, excludeItemIds, pageSize, owned, memberOf, null);
    }
  }

  /** A served slot, with the id of the reservation it holds. */
  public record Slot(long campaignId, long itemId, int position, String reservation) {}

  /** How many sponsored places a page of {@code pageSize} has: 2 in a page of 20, 1 in a page of 5..14. */
  public static int places(int pageSize) {
    return Math.min(2, Math.max(0, (pageSize + 5) / 10));
  }

  public Future<List<Slot>> fill(Ask ask) {
    int places = places(ask.pageSize());
    if (places == 0) {
      return Future.succeededFuture(List.of());
    }
    Future<List<Slot>> slots = active.current().compose(snap -> fill(ask, places, snap, 0));
    return slots.timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .recover(failure -> {
          log.warn("sponsored slots left empty for user {}: {}", ask.userId(), failure.toString());
          // reserved after the page went without them: give them back rather than hold them until they lapse
          slots.onSuccess(late -> release(ask.userId(), late));
          return Future.succeededFuture(List.of());
        });
  }

  /** Gives back the reservations of slots that were not shown. Never fails: what is not given back lapses. */
  public Future<Void> release(long userId, List<Slot> unused) {
    if (unused.isEmpty()) {
      return Future.succeededFuture();
    }
    return budgets.release(userId, unused).recover(failure -> {
      log.warn("sponsored reservations not given back for user {} (they lapse): {}", userId, failure.toString());
      return Future.succeededFuture();
    });
  }

  private record UserFacts(Instant joinedAt, Set<Long> owned, Set<Long> memberOf) {}

  private Future<List<Slot>> fill(Ask ask, int places, ActiveCampaigns.Snapshot snap, int attempt) {
    Instant now = clock.instant();
    return userFacts(ask, snap, now).compose(user -> {
      List<Ranked> ranked = new ArrayList<>();
      for (ActiveCampaigns.Candidate candidate : snap.candidates()) {
        Campaign c = candidate.campaign();
        if (!c.runsAt(now) || user.owned().contains(c.itemId())
            || (ask.excludeItemIds() != null && ask.excludeItemIds().contains(c.itemId()))) {
          continue;
        }
        if (candidate.itemPriced() && !candidate.membershipItem()
            && user.memberOf().contains(candidate.itemMerchantId())) {
          continue; // the membership opens it: owned
        }
        if (!c.targets(ask.personalised(), ask.interestTags(), user.joinedAt(), now)) {
          continue;
        }
        ranked.add(new Ranked(c, expectedValue(c, ask.personalised() ? ask.interestTags() : null,
            candidate.itemTags())));
      }
      ranked.sort(Comparator.comparingDouble(Ranked::value).reversed().thenComparingLong(x -> x.campaign().id()));
      List<Campaign> order = new ArrayList<>(ranked.size());
      ranked.forEach(r -> order.add(r.campaign()));
      if (order.isEmpty() && snap.version().equals(ask.versionAtStart())) {
        return Future.succeededFuture(List.<Slot>of()); // nothing to reserve, and this copy was current at the start
      }
      return budgets.reservePage(snap.version(), order, ask.userId(), places).compose(reserved -> {
        if (reserved.stale()) {
          // the campaigns changed since this copy was read (nothing was reserved): read them again, start again
          return attempt < RETRIES ? active.after(snap).compose(fresh -> fill(ask, places, fresh, attempt + 1))
              : Future.succeededFuture(List.<Slot>of());
        }
        List<Slot> out = new ArrayList<>(reserved.held().size());
        for (Budgets.Held h : reserved.held()) {
          int position = Math.min(FIRST_POSITION + out.size() * SPACING, ask.pageSize() - 1);
          out.add(new Slot(h.campaign().id(), h.campaign().itemId(), position, h.reservation()));
        }
        return Future.succeededFuture(out);
      });
    });
  }

  /** What the ask says about the user, and what it does not say read from PostgreSQL (only when a campaign runs). */
  private Future<UserFacts> userFacts(Ask ask, ActiveCampaigns.Snapshot snap, Instant now) {
    boolean needsJoined = ask.joinedAt() == null
        && snap.candidates().stream().anyMatch(c -> c.campaign().newUsersOnly());
    if (snap.candidates().isEmpty() || (ask.owned() != null && ask.memberOf() != null && !needsJoined)) {
      return Future.succeededFuture(new UserFacts(ask.joinedAt(), ask.owned() == null ? Set.of() : ask.owned(),
          ask.memberOf() == null ? Set.of() : ask.memberOf()));
    }
    return pg.preparedQuery(USER).execute(Tuple.of(ask.userId(), OffsetDateTime.ofInstant(now, ZoneOffset.UTC)))
        .map(rows -> {
          Row r = rows.size() == 0 ? null : rows.iterator().next();
          // the feed says when the user joined; the users row does when it does not
          Instant joined = ask.joinedAt() != null ? ask.joinedAt()
              : r == null ? null : r.getOffsetDateTime("created_at").toInstant();
          Set<Long> owned = ask.owned() != null ? ask.owned() : r == null ? Set.of() : longs(r.getArrayOfLongs("owned"));
          Set<Long> memberOf = ask.memberOf() != null ? ask.memberOf()
              : r == null ? Set.of() : longs(r.getArrayOfLongs("member_of"));
          return new UserFacts(joined, owned, memberOf);
        });
  }

  private static Set<Long> longs(Long[] values) {
    return values == null ? Set.of() : new HashSet<>(Arrays.asList(values));
  }

  private record Ranked(Campaign campaign, double value) {}

  /**
   * Expected value of showing the campaign once, in millifen: the CPM bid as it is; a CPC bid times the predicted
   * CTR, which is the campaign's own clicks over impressions smoothed by the prior and moved by how much the item's
   * tags overlap the user's interests.
   */
  static double expectedValue(Campaign c, Set<String> interests, List<String> itemTags) {
    if (c.cpm()) {
      return c.bidFen();
    }
    return c.bidFen() * (double) Campaign.MILLIFEN_PER_FEN * predictedCtr(c) * similarityFactor(interests, itemTags);
  }

  static double predictedCtr(Campaign c) {
    return (c.clicks() + PRIOR_CLICKS) / (c.impressions() + PRIOR_IMPRESSIONS);
  }

  /** 1 − w for no overlap up to 1 + w when every tag of the item is among the user's interests; 1 when unknown. */
  static double similarityFactor(Set<String> interests, List<String> itemTags) {
    if (interests == null || interests.isEmpty() || itemTags.isEmpty()) {
      return 1.0;
    }
    long shared = itemTags.stream().filter(interests::contains).count();
    return 1 - SIMILARITY_WEIGHT + 2 * SIMILARITY_WEIGHT * shared / itemTags.size();
  }
}

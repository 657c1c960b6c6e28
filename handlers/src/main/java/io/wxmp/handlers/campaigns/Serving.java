package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
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
 * merchant active, item not owned by the user), whose targeting matches the user, ranked by expected value per
 * impression, each then reserved in {@link Budgets} (frequency cap, total and daily budget, pace) until the page's
 * sponsored places are filled. At most 2 in a page of 20. Never fails the page: on any trouble it answers none.
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
   * The campaigns that may run for this user now. Membership-opened items count as owned, like on the item page. A
   * suspended merchant's campaigns leave at once and come back on reactivation (nothing about them changes).
   */
  static final String ELIGIBLE = "SELECT " + prefixed() + """
      , i.tags AS item_tags, (SELECT created_at FROM users WHERE id = $1) AS user_joined
      FROM campaigns c JOIN items i ON i.id = c.item_id
      WHERE c.status = 'active' AND c.start_at <= $2 AND (c.end_at IS NULL OR c.end_at > $2)
        AND i.status = 'published' AND c.spent_millifen < c.budget_total_fen * 1000
        AND EXISTS (SELECT 1 FROM merchants mc WHERE mc.id = c.merchant_id AND mc.status = 'active')
        AND NOT EXISTS (SELECT 1 FROM entitlements e WHERE e.user_id = $1 AND e.item_id = c.item_id
                        AND e.revoked_at IS NULL)
        AND (i.price_fen IS NULL OR i.kind = 'membership' OR NOT EXISTS (SELECT 1 FROM memberships m
              WHERE m.user_id = $1 AND m.merchant_id = i.merchant_id AND m.member_until > $2))""";

  private final Pool pg;
  private final Budgets budgets;
  private final Clock clock;
  private final long timeoutMs;

  public Serving(Pool pg, Budgets budgets, Clock clock, long timeoutMs) {
    this.pg = pg;
    this.budgets = budgets;
    this.clock = clock;
    this.timeoutMs = timeoutMs;
  }

  /** What the feed knows about the user and the page. */
  public record Ask(long userId, boolean personalised, Set<String> interestTags, Instant joinedAt,
      Set<Long> excludeItemIds, int pageSize) {}

  public record Slot(long campaignId, long itemId, int position) {}

  /** How many sponsored places a page of {@code pageSize} has: 2 in a page of 20, 1 in a page of 5..14. */
  public static int places(int pageSize) {
    return Math.min(2, Math.max(0, (pageSize + 5) / 10));
  }

  public Future<List<Slot>> fill(Ask ask) {
    int places = places(ask.pageSize());
    if (places == 0) {
      return Future.succeededFuture(List.of());
    }
    Instant now = clock.instant();
    return pg.preparedQuery(ELIGIBLE).execute(Tuple.of(ask.userId(), OffsetDateTime.ofInstant(now, ZoneOffset.UTC)))
        .compose(rows -> {
          List<Ranked> ranked = new ArrayList<>();
          for (Row r : rows) {
            Campaign c = Campaign.of(r);
            // the feed says when the user joined; the users row does when it does not
            Instant joined = ask.joinedAt() != null ? ask.joinedAt()
                : r.getOffsetDateTime("user_joined") == null ? null : r.getOffsetDateTime("user_joined").toInstant();
            if (ask.excludeItemIds() != null && ask.excludeItemIds().contains(c.itemId())) {
              continue;
            }
            if (!c.targets(ask.personalised(), ask.interestTags(), joined, now)) {
              continue;
            }
            String[] tags = r.getArrayOfStrings("item_tags");
            ranked.add(new Ranked(c, expectedValue(c, ask.personalised() ? ask.interestTags() : null,
                tags == null ? List.of() : Arrays.asList(tags))));
          }
          ranked.sort(Comparator.comparingDouble(Ranked::value).reversed().thenComparingLong(x -> x.campaign().id()));
          return reserveInOrder(ask, ranked, 0, places, new ArrayList<>(), new HashSet<>());
        })
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .recover(failure -> {
          log.warn("sponsored slots left empty for user {}: {}", ask.userId(), failure.toString());
          return Future.succeededFuture(List.of());
        });
  }

  private record Ranked(Campaign campaign, double value) {}

  private Future<List<Slot>> reserveInOrder(Ask ask, List<Ranked> ranked, int next, int places, List<Slot> out,
      Set<Long> items) {
    if (out.size() >= places || next >= ranked.size()) {
      return Future.succeededFuture(out);
    }
    Campaign c = ranked.get(next).campaign();
    if (items.contains(c.itemId())) {
      return reserveInOrder(ask, ranked, next + 1, places, out, items);
    }
    return budgets.reserve(c, ask.userId()).compose(outcome -> {
      if (outcome == Budgets.Outcome.OK) {
        int position = Math.min(FIRST_POSITION + out.size() * SPACING, ask.pageSize() - 1);
        out.add(new Slot(c.id(), c.itemId(), position));
        items.add(c.itemId());
      }
      return reserveInOrder(ask, ranked, next + 1, places, out, items);
    });
  }

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

  private static String prefixed() {
    StringBuilder sb = new StringBuilder();
    for (String column : Campaign.COLUMNS.split(",")) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append("c.").append(column.strip());
    }
    return sb.toString();
  }
}

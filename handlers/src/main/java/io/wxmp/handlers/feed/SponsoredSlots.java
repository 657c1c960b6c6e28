package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.vertx.redis.client.Response;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * Where sponsored entries go into a feed page. The campaigns feature implements it (targeting, frequency caps, budget
 * pacing); the feed calls it once per page with what the page is built from. An implementation answers within its own
 * time budget and with an empty list on any failure, so a page never waits on it for long nor fails because of it.
 */
public interface SponsoredSlots {
  /**
   * What the page is built for.
   *
   * @param personalised   false when the user turned personalisation off: then targeting may not use their history
   * @param interestTags   the user's interest tags (empty when not personalised)
   * @param userVector     the user's vector in the model the page ranks with; null when none or not personalised
   * @param excludeItemIds items that must not appear (already in this feed, owned, fatigued)
   * @param pageSize       the number of entries the page holds in all
   * @param ownedItemIds   the items the user bought; null when the caller does not know (then they are read)
   * @param memberOfMerchantIds the merchants whose membership the user has now; null when the caller does not know
   * @param firstAnswers   the replies to {@link #firstReads()}, read with the page's first reads; null when not sent
   */
  record Request(String userId, boolean personalised, Set<String> interestTags, Instant userJoinedAt,
      float[] userVector, Set<String> excludeItemIds, int pageSize, FeedParams params, Set<String> ownedItemIds,
      Set<String> memberOfMerchantIds, List<Response> firstAnswers) {
    /** A request that does not say what the user owns. */
    public Request(String userId, boolean personalised, Set<String> interestTags, Instant userJoinedAt,
        float[] userVector, Set<String> excludeItemIds, int pageSize, FeedParams params) {
      this(userId, personalised, interestTags, userJoinedAt, userVector, excludeItemIds, pageSize, params, null, null);
    }

    /** A request without first answers. */
    public Request(String userId, boolean personalised, Set<String> interestTags, Instant userJoinedAt,
        float[] userVector, Set<String> excludeItemIds, int pageSize, FeedParams params, Set<String> ownedItemIds,
        Set<String> memberOfMerchantIds) {
      this(userId, personalised, interestTags, userJoinedAt, userVector, excludeItemIds, pageSize, params,
          ownedItemIds, memberOfMerchantIds, null);
    }
  }

  /**
   * Redis reads that the page sends with its first ones (the session's pipelined batch, where there is one), so that
   * {@link #fill} finds their replies in {@link Request#firstAnswers} instead of making a round trip of its own.
   */
  default List<io.vertx.redis.client.Request> firstReads() {
    return List.of();
  }

  /**
   * One sponsored entry: the campaign, its item, its index in the page (0-based), and what it holds of the
   * campaign's budget (opaque to the feed; null when nothing).
   */
  record Entry(String campaignId, String itemId, int position, String reservation) {
    public Entry(String campaignId, String itemId, int position) {
      this(campaignId, itemId, position, null);
    }
  }

  Future<List<Entry>> fill(Request request);

  /**
   * Gives back what entries that the page did not show hold (the feed dropped them, could not claim them, or had
   * stopped waiting), so that their budget and cap places serve other pages now instead of after they lapse.
   */
  default Future<Void> release(String userId, List<Entry> unused) {
    return Future.succeededFuture();
  }

  /** No campaigns: pages hold no sponsored entries. */
  SponsoredSlots NONE = r -> Future.succeededFuture(List.of());
}

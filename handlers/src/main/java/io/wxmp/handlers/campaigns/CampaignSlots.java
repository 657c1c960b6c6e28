package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.vertx.redis.client.Response;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.feed.SponsoredSlots;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/** The feed's {@link SponsoredSlots}, answered by {@link Serving}; an arm that turns sponsored slots off gets none. */
public final class CampaignSlots implements SponsoredSlots {
  private final Serving serving;
  private final Function<String, Future<Set<String>>> interests;

  /**
   * @param interests the user's interest tags (the events feature's {@code OnlineState.recentTags}), asked only when
   *     the feed passes none for a personalised page
   */
  public CampaignSlots(Serving serving, Function<String, Future<Set<String>>> interests) {
    this.serving = serving;
    this.interests = interests;
  }

  @Override
  public Future<List<Entry>> fill(Request request) {
    Long userId = Ids.parseOrNull(request.userId());
    if (userId == null || (request.params() != null && !request.params().sponsoredSlots())) {
      return Future.succeededFuture(List.of());
    }
    Set<Long> exclude = request.excludeItemIds() == null ? Set.of() : ids(request.excludeItemIds());
    Set<Long> owned = request.ownedItemIds() == null ? null : ids(request.ownedItemIds());
    Set<Long> memberOf = request.memberOfMerchantIds() == null ? null : ids(request.memberOfMerchantIds());
    Future<Set<String>> tags;
    if (!request.personalised()) {
      tags = Future.succeededFuture(Set.of());
    } else if (request.interestTags() != null && !request.interestTags().isEmpty()) {
      tags = Future.succeededFuture(request.interestTags());
    } else {
      tags = interests.apply(request.userId()).timeout(100, java.util.concurrent.TimeUnit.MILLISECONDS)
          .recover(failure -> Future.succeededFuture(Set.of()));
    }
    List<Response> first = request.firstAnswers();
    String versionAtStart = first != null && first.size() == 1 ? Budgets.version(first.get(0)) : null;
    return tags.compose(t -> serving.fill(new Serving.Ask(userId, request.personalised(), t == null ? Set.of() : t,
            request.userJoinedAt(), exclude, request.pageSize(), owned, memberOf, versionAtStart)))
        .map(slots -> slots.stream()
            .map(s -> new Entry(Long.toString(s.campaignId()), Long.toString(s.itemId()), s.position(),
                s.reservation()))
            .toList());
  }

  /** The campaigns' version, read with the page's first reads: see {@link Serving.Ask#versionAtStart}. */
  @Override
  public List<io.vertx.redis.client.Request> firstReads() {
    return List.of(Budgets.versionRead());
  }

  @Override
  public Future<Void> release(String userId, List<Entry> unused) {
    Long user = Ids.parseOrNull(userId);
    if (user == null || unused == null || unused.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Serving.Slot> slots = new java.util.ArrayList<>();
    for (Entry e : unused) {
      Long campaign = Ids.parseOrNull(e.campaignId());
      Long item = Ids.parseOrNull(e.itemId());
      if (campaign != null && item != null && e.reservation() != null) {
        slots.add(new Serving.Slot(campaign, item, e.position(), e.reservation()));
      }
    }
    return serving.release(user, slots);
  }

  private static Set<Long> ids(Set<String> ids) {
    Set<Long> out = new HashSet<>();
    for (String id : ids) {
      Long parsed = Ids.parseOrNull(id);
      if (parsed != null) {
        out.add(parsed);
      }
    }
    return out;
  }
}

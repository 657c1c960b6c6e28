package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.feed.SponsoredSlots;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The feed's {@link SponsoredSlots}, answered by {@link Serving}; an arm that turns sponsored slots off gets none. */
public final class CampaignSlots implements SponsoredSlots {
  private final Serving serving;

  public CampaignSlots(Serving serving) {
    this.serving = serving;
  }

  @Override
  public Future<List<Entry>> fill(Request request) {
    Long userId = Ids.parseOrNull(request.userId());
    if (userId == null || (request.params() != null && !request.params().sponsoredSlots())) {
      return Future.succeededFuture(List.of());
    }
    Set<Long> exclude = new HashSet<>();
    if (request.excludeItemIds() != null) {
      for (String id : request.excludeItemIds()) {
        Long parsed = Ids.parseOrNull(id);
        if (parsed != null) {
          exclude.add(parsed);
        }
      }
    }
    Set<String> tags = request.personalised() && request.interestTags() != null ? request.interestTags() : Set.of();
    return serving.fill(new Serving.Ask(userId, request.personalised(), tags, request.userJoinedAt(), exclude,
            request.pageSize()))
        .map(slots -> slots.stream()
            .map(s -> new Entry(Long.toString(s.campaignId()), Long.toString(s.itemId()), s.position()))
            .toList());
  }
}

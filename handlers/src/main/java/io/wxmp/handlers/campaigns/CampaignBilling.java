package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.events.EventListener;
import io.wxmp.handlers.feed.FeedToken;
import java.util.ArrayList;
import java.util.List;

/** The events pipeline's {@link EventListener} for billing: each accepted impression or click goes to {@link Billing}. */
public final class CampaignBilling implements EventListener {
  private final Billing billing;

  public CampaignBilling(Billing billing) {
    this.billing = billing;
  }

  @Override
  public Future<Void> onAccepted(String userId, List<Accepted> events) {
    Long user = Ids.parseOrNull(userId);
    if (user == null) {
      return Future.succeededFuture();
    }
    List<Future<?>> billed = new ArrayList<>();
    for (Accepted e : events) {
      Billing.Token token = token(e.token());
      Long item = Ids.parseOrNull(e.itemId());
      if (token != null && item != null && Ids.parseOrNull(e.userId()) != null
          && Ids.parseOrNull(e.userId()).equals(user)) {
        billed.add(billing.onEvent(user, item, e.type(), token, e.eventId()));
      }
    }
    return Future.join(billed).mapEmpty();
  }

  /** The token's facts when it names a campaign with well-formed ids, else null (bills nothing). */
  static Billing.Token token(FeedToken t) {
    if (t == null || t.campaignId() == null) {
      return null;
    }
    Long user = Ids.parseOrNull(t.userId());
    Long item = Ids.parseOrNull(t.itemId());
    Long campaign = Ids.parseOrNull(t.campaignId());
    if (user == null || item == null || campaign == null) {
      return null;
    }
    return new Billing.Token(t.tokenId(), user, item, campaign, t.issuedAtMs());
  }
}

package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bills impressions and clicks of sponsored slots: only events whose verified token names this user, this item and
 * this campaign, and that the token's campaign promotes this item. The ledger's unique key makes every token bill at
 * most once per event type; what the ledger billed then settles the Redis reservation.
 */
public final class Billing {
  private static final Logger log = LoggerFactory.getLogger(Billing.class);
  /** A token older than this bills nothing (a page is read within minutes, not days). */
  static final Duration TOKEN_MAX_AGE = Duration.ofHours(24);

  private final CampaignRepository campaigns;
  private final Ledger ledger;
  private final Budgets budgets;
  private final Clock clock;

  public Billing(CampaignRepository campaigns, Ledger ledger, Budgets budgets, Clock clock) {
    this.campaigns = campaigns;
    this.ledger = ledger;
    this.budgets = budgets;
    this.clock = clock;
  }

  /** The facts of a verified feed token that billing relies on. */
  public record Token(String tokenId, long userId, long itemId, Long campaignId, long issuedAtMs) {}

  /** An accepted event of {@code userId} about {@code itemId}; {@code token} null when it carried no valid one. */
  public Future<Ledger.Outcome> onEvent(long userId, long itemId, String type, Token token, Long eventId) {
    if (token == null || token.campaignId() == null || token.tokenId() == null
        || !("impression".equals(type) || "click".equals(type))
        || token.userId() != userId || token.itemId() != itemId) {
      return Future.succeededFuture(null);
    }
    Instant now = clock.instant();
    Instant issued = Instant.ofEpochMilli(token.issuedAtMs());
    if (issued.isBefore(now.minus(TOKEN_MAX_AGE)) || issued.isAfter(now.plus(Duration.ofMinutes(5)))) {
      return Future.succeededFuture(null);
    }
    return campaigns.byId(token.campaignId()).compose(c -> {
      if (c == null || c.itemId() != itemId) {
        return Future.succeededFuture(null);
      }
      return ledger.bill(c, token.tokenId(), type, userId, itemId, eventId, now).compose(result -> {
        if (result.outcome() == Ledger.Outcome.DUPLICATE) {
          return Future.succeededFuture(result.outcome());
        }
        return budgets.commit(c, userId, token.tokenId(), type, result.costMillifen(), now)
            .recover(failure -> {
              // The ledger has it; the cache heals when it expires or is reloaded.
              log.warn("campaign {}: Redis commit after billing failed: {}", c.id(), failure.toString());
              return Future.succeededFuture();
            })
            .map(result.outcome());
      });
    });
  }
}

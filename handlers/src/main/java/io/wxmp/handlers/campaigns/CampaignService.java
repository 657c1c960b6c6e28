package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Audit;
import io.wxmp.handlers.common.MerchantPrincipal;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Campaign rules: merchants see and change only their own campaigns, the promoted item is their own and published,
 * and the status moves draft → active ⇄ paused → ended (ended is final), each move a conditional update.
 */
public final class CampaignService {
  /** Where each status may go (staying put is always allowed). A draft may be dropped straight to ended. */
  private static final Map<String, Set<String>> MOVES = Map.of(
      "draft", Set.of("active", "ended"),
      "active", Set.of("paused", "ended"),
      "paused", Set.of("active", "ended"),
      "ended", Set.of());

  private static final Logger log = LoggerFactory.getLogger(CampaignService.class);
  private final CampaignRepository campaigns;
  private final Supplier<Future<Void>> changed;

  /**
   * @param changed tells every server's serving that the campaigns changed (after each committed write, before the
   *     answer, so a paused campaign has left the feed when the merchant sees 200)
   */
  public CampaignService(CampaignRepository campaigns, Supplier<Future<Void>> changed) {
    this.campaigns = campaigns;
    this.changed = changed;
  }

  /** After a committed write: the notice to serving; the write stands even if the notice fails (copies age out). */
  private <T> Future<T> announce(T result) {
    return changed.get().recover(failure -> {
      log.warn("campaign change not announced (servers see it within their copy's lifetime): {}", failure.toString());
      return Future.succeededFuture();
    }).map(result);
  }

  public Future<Campaign> create(MerchantPrincipal m, Campaign c) {
    return create(m, null, c);
  }

  /** {@code who} (the request's writer) gets a {@code campaign.create} audit entry in the insert's transaction. */
  public Future<Campaign> create(MerchantPrincipal m, Audit.Who who, Campaign c) {
    m.requireWriter();
    if (!c.status().equals("draft") && !c.status().equals("active")) {
      throw ApiException.invalid(new JsonObject().put("status", "a new campaign is draft or active"));
    }
    return checkItem(m, c.itemId()).compose(v -> campaigns.pool().withTransaction(tx ->
        campaigns.insert(tx, m.merchantId(), c).compose(stored -> who == null ? Future.succeededFuture(stored)
            : Audit.record(tx, who, "campaign.create", "campaign", stored.id(), Audit.diff(null, audited(stored)))
                .map(stored)))).compose(this::announce);
  }

  /** What an audit entry shows of a campaign: its settings, not the running numbers. */
  static JsonObject audited(Campaign c) {
    JsonObject view = c.toAdminJson();
    for (String running : List.of("id", "spend", "remainingBudget", "createdAt", "updatedAt")) {
      view.remove(running);
    }
    return view;
  }

  public Future<Campaign> get(MerchantPrincipal m, long id) {
    return campaigns.byIdForMerchant(id, m.merchantId()).map(CampaignService::found);
  }

  public Future<List<Campaign>> list(MerchantPrincipal m, String status, Long beforeId, int limit) {
    return campaigns.list(m.merchantId(), status, beforeId, limit);
  }

  /**
   * Applies {@code change} (which validates the body against the current campaign) and stores the result on the
   * condition that nobody moved the status meanwhile; a lost race answers 409 rather than overwriting.
   */
  public Future<Campaign> update(MerchantPrincipal m, long id, Function<Campaign, Campaign> change) {
    return update(m, null, id, change);
  }

  /** {@code who} gets a {@code campaign.update} audit entry with what changed, in the update's transaction. */
  public Future<Campaign> update(MerchantPrincipal m, Audit.Who who, long id, Function<Campaign, Campaign> change) {
    m.requireWriter();
    return campaigns.byIdForMerchant(id, m.merchantId()).map(CampaignService::found).compose(current -> {
      if (current.status().equals("ended")) {
        throw ApiException.conflict("conflict", "The campaign has ended; an ended campaign cannot change.");
      }
      Campaign next = change.apply(current);
      if (!next.status().equals(current.status()) && !MOVES.get(current.status()).contains(next.status())) {
        throw ApiException.conflict("conflict",
            "A campaign cannot go from " + current.status() + " to " + next.status() + ".");
      }
      if (next.itemId() != current.itemId() && !current.status().equals("draft")) {
        throw ApiException.invalid(new JsonObject().put("itemId", "can change only while the campaign is a draft"));
      }
      boolean needsItem = next.itemId() != current.itemId()
          || (next.status().equals("active") && !current.status().equals("active"));
      return (needsItem ? checkItem(m, next.itemId()) : Future.<Void>succeededFuture())
          .compose(v -> campaigns.pool().withTransaction(tx -> campaigns.update(tx, m.merchantId(),
              current.status(), next).compose(stored -> {
                if (stored == null) {
                  throw ApiException.conflict("conflict", "The campaign changed meanwhile; read it again and retry.");
                }
                JsonObject changes = Audit.diff(audited(current), audited(stored));
                return who == null || changes.isEmpty() ? Future.succeededFuture(stored)
                    : Audit.record(tx, who, "campaign.update", "campaign", stored.id(), changes).map(stored);
              }))).compose(this::announce);
    });
  }

  /** The item must be the merchant's own (another merchant's is "no such item") and published. */
  private Future<Void> checkItem(MerchantPrincipal m, long itemId) {
    return campaigns.itemStatus(itemId, m.merchantId()).map(status -> {
      if (status == null) {
        throw ApiException.invalid(new JsonObject().put("itemId", "no such item of yours"));
      }
      if (!status.equals("published")) {
        throw ApiException.invalid(new JsonObject().put("itemId", "the item must be published (it is " + status + ")"));
      }
      return null;
    });
  }

  private static Campaign found(Campaign c) {
    if (c == null) {
      throw ApiException.notFound();
    }
    return c;
  }
}

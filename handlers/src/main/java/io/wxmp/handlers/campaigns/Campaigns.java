package io.wxmp.handlers.campaigns;

import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import java.time.Clock;

/**
 * The campaigns feature, built once per server: admin service and stats, serving (the feed's sponsored slots),
 * budgets and billing. The clock is injected so pacing and budgets can be tested at any time of day.
 *
 * @param reservationTtlMs how long a served slot holds its budget and cap place while its event has not come
 * @param servingTimeoutMs the most a feed page waits for its sponsored slots before going without
 */
public final class Campaigns {
  public record Config(long reservationTtlMs, long servingTimeoutMs) {
    public static final Config DEFAULTS = new Config(60_000, 250);
  }

  private final CampaignRepository repository;
  private final CampaignService service;
  private final CampaignStats stats;
  private final Budgets budgets;
  private final Ledger ledger;
  private final Serving serving;
  private final Billing billing;

  public Campaigns(Pool pg, RedisAPI redis, Clock clock, Config config) {
    this.repository = new CampaignRepository(pg);
    this.service = new CampaignService(repository);
    this.stats = new CampaignStats(pg, clock);
    this.budgets = new Budgets(redis, pg, clock, config.reservationTtlMs());
    this.ledger = new Ledger(pg);
    this.serving = new Serving(pg, budgets, clock, config.servingTimeoutMs());
    this.billing = new Billing(repository, ledger, budgets, clock);
  }

  public CampaignService service() {
    return service;
  }

  public CampaignStats stats() {
    return stats;
  }

  public Budgets budgets() {
    return budgets;
  }

  public Serving serving() {
    return serving;
  }

  /** What the feed calls for each page. */
  public io.wxmp.handlers.feed.SponsoredSlots slots() {
    return new CampaignSlots(serving);
  }

  /** What the events pipeline calls after each committed batch. */
  public io.wxmp.handlers.events.EventListener listener() {
    return new CampaignBilling(billing);
  }

  public Billing billing() {
    return billing;
  }

  public CampaignRepository repository() {
    return repository;
  }
}

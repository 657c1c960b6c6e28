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
 * @param activeTtlMs      how old this server's copy of the active campaigns may grow before it is read again
 *     (a campaign write or a merchant suspension makes it be read again at once, on every server)
 */
public final class Campaigns {
  public record Config(long reservationTtlMs, long servingTimeoutMs, long activeTtlMs) {
    public static final Config DEFAULTS = new Config(60_000, 250, 1_000);

    public Config(long reservationTtlMs, long servingTimeoutMs) {
      this(reservationTtlMs, servingTimeoutMs, DEFAULTS.activeTtlMs());
    }
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
    this.service = new CampaignService(repository, () -> Budgets.changed(redis));
    this.stats = new CampaignStats(pg, clock);
    this.budgets = new Budgets(redis, pg, clock, config.reservationTtlMs());
    this.ledger = new Ledger(pg);
    this.serving = new Serving(pg, redis, budgets, clock, config.servingTimeoutMs(), config.activeTtlMs());
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

  /** What the feed calls for each page; {@code interests} fills in the user's tags when the feed passes none. */
  public io.wxmp.handlers.feed.SponsoredSlots slots(
      java.util.function.Function<String, io.vertx.core.Future<java.util.Set<String>>> interests) {
    return new CampaignSlots(serving, interests);
  }

  /** The slots for a caller that always passes the user's tags itself. */
  public io.wxmp.handlers.feed.SponsoredSlots slots() {
    return slots(user -> io.vertx.core.Future.succeededFuture(java.util.Set.of()));
  }

  /** What the events pipeline calls after each committed batch. */
  public io.wxmp.handlers.events.EventListener listener() {
    return new CampaignBilling(billing);
  }

  /** The conversions consumer of the payment outbox, not started. */
  public Conversions conversions(io.vertx.core.Vertx vertx, long pollMs) {
    return new Conversions(vertx, repository.pool(), pollMs);
  }

  public Billing billing() {
    return billing;
  }

  public CampaignRepository repository() {
    return repository;
  }
}

package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * The billing ledger in PostgreSQL, the truth of every campaign's spend. One transaction per billable event: the
 * ledger row (unique per token and event type, so a token bills at most once per type whatever the retries), then
 * the campaign's total and the day's spend moved on the condition that they stay within the budgets. When a budget
 * would be passed, the event is still recorded (it happened) at a cost of 0: spend never exceeds a budget.
 */
public final class Ledger {
  private static final String INSERT = """
      INSERT INTO campaign_ledger (campaign_id, token_id, event_type, user_id, item_id, event_id, cost_millifen, at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (token_id, event_type) DO NOTHING RETURNING id""";
  private static final String CHARGE_TOTAL = """
      UPDATE campaigns SET spent_millifen = spent_millifen + $2, impressions = impressions + $3, clicks = clicks + $4
      WHERE id = $1 AND spent_millifen + $2 <= budget_total_fen * 1000 RETURNING budget_daily_fen""";
  private static final String COUNT_ONLY = """
      UPDATE campaigns SET impressions = impressions + $2, clicks = clicks + $3 WHERE id = $1""";
  private static final String UNCHARGE_TOTAL = "UPDATE campaigns SET spent_millifen = spent_millifen - $2 WHERE id = $1";
  private static final String CHARGE_DAY = """
      INSERT INTO campaign_daily_spend (campaign_id, day, spent_millifen) SELECT $1::bigint, $2::date, $3::bigint WHERE $3::bigint <= $4::bigint
      ON CONFLICT (campaign_id, day) DO UPDATE SET spent_millifen = campaign_daily_spend.spent_millifen + EXCLUDED.spent_millifen
      WHERE campaign_daily_spend.spent_millifen + EXCLUDED.spent_millifen <= $4::bigint RETURNING 1""";
  private static final String ZERO_COST = "UPDATE campaign_ledger SET cost_millifen = 0 WHERE id = $1";

  private final Pool pg;

  public Ledger(Pool pg) {
    this.pg = pg;
  }

  /** What became of an event: billed (with what it cost), recorded at no cost past a budget, or a repeat. */
  public enum Outcome { BILLED, OVER_BUDGET, DUPLICATE }

  public record Result(Outcome outcome, long costMillifen) {}

  public Future<Result> bill(Campaign c, String tokenId, String eventType, long userId, long itemId, Long eventId,
      Instant at) {
    long cost = c.costMillifen(eventType);
    int impression = "impression".equals(eventType) ? 1 : 0;
    int click = 1 - impression;
    LocalDate day = Pacing.day(at);
    OffsetDateTime when = OffsetDateTime.ofInstant(at, ZoneOffset.UTC);
    return pg.withTransaction(tx -> tx.preparedQuery(INSERT)
        .execute(Tuple.of(c.id(), tokenId, eventType, userId, itemId, eventId, cost, when))
        .compose(inserted -> {
          if (inserted.size() == 0) {
            return Future.succeededFuture(new Result(Outcome.DUPLICATE, 0));
          }
          long ledgerId = inserted.iterator().next().getLong(0);
          if (cost == 0) {
            return tx.preparedQuery(COUNT_ONLY).execute(Tuple.of(c.id(), impression, click))
                .map(new Result(Outcome.BILLED, 0));
          }
          return tx.preparedQuery(CHARGE_TOTAL).execute(Tuple.of(c.id(), cost, impression, click))
              .compose(total -> total.size() == 0
                  ? free(tx, c, ledgerId, impression, click)
                  : tx.preparedQuery(CHARGE_DAY)
                      .execute(Tuple.of(c.id(), day, cost, total.iterator().next().getLong(0) * 1000))
                      .compose(daily -> daily.size() == 1
                          ? Future.succeededFuture(new Result(Outcome.BILLED, cost))
                          : tx.preparedQuery(UNCHARGE_TOTAL).execute(Tuple.of(c.id(), cost))
                              .map(new Result(Outcome.OVER_BUDGET, 0))
                              .compose(r -> tx.preparedQuery(ZERO_COST).execute(Tuple.of(ledgerId)).map(r))));
        }));
  }

  /** The total budget would be passed: the event stays in the ledger at no cost, and is counted. */
  private static Future<Result> free(SqlConnection tx, Campaign c, long ledgerId, int impression, int click) {
    return tx.preparedQuery(ZERO_COST).execute(Tuple.of(ledgerId))
        .compose(v -> tx.preparedQuery(COUNT_ONLY).execute(Tuple.of(c.id(), impression, click)))
        .map(new Result(Outcome.OVER_BUDGET, 0));
  }
}

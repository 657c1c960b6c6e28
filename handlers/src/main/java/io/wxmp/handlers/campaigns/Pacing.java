package io.wxmp.handlers.campaigns;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZonedDateTime;

/**
 * API.md's pacing rule: a campaign is withheld only while its spend today is ahead of
 * {@code daily × (fraction of the Asia/Shanghai day gone) + max(5 % of daily, 100 fen)}.
 */
public final class Pacing {
  private Pacing() {}

  /** The Asia/Shanghai day an instant falls on: the day a daily budget belongs to. */
  public static LocalDate day(Instant t) {
    return t.atZone(CampaignStats.SHANGHAI).toLocalDate();
  }

  /** The spend (millifen) that today's pace allows at {@code now}; serving stops while spend today is above it. */
  public static long allowanceMillifen(long dailyFen, Instant now) {
    ZonedDateTime local = now.atZone(CampaignStats.SHANGHAI);
    ZonedDateTime midnight = local.toLocalDate().atStartOfDay(CampaignStats.SHANGHAI);
    ZonedDateTime next = local.toLocalDate().plusDays(1).atStartOfDay(CampaignStats.SHANGHAI);
    double fraction = (double) java.time.Duration.between(midnight, local).toMillis()
        / java.time.Duration.between(midnight, next).toMillis();
    long daily = dailyFen * Campaign.MILLIFEN_PER_FEN;
    long slack = Math.max(daily / 20, 100 * Campaign.MILLIFEN_PER_FEN);
    return (long) Math.floor(daily * fraction) + slack;
  }
}

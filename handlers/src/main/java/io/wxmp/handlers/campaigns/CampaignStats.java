package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.ApiException;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code GET /admin/campaigns/{id}/stats}: the billing ledger and the conversions, in hour or day buckets of
 * Asia/Shanghai time. Everything is summed from the ledger rows themselves, so the totals are the ledger's sum; a
 * bucket's spend is the whole fen the running sum crossed in it, so fractions of a fen carry from bucket to bucket
 * and the series adds up to the totals exactly.
 */
public final class CampaignStats {
  public static final ZoneId SHANGHAI = ZoneId.of("Asia/Shanghai");
  static final int MAX_BUCKETS = 10_000;
  private static final String LEDGER = """
      SELECT date_trunc($4, at AT TIME ZONE 'Asia/Shanghai') AS b,
             count(*) FILTER (WHERE event_type = 'impression') AS impressions,
             count(*) FILTER (WHERE event_type = 'click') AS clicks,
             coalesce(sum(cost_millifen), 0)::bigint AS cost
      FROM campaign_ledger WHERE campaign_id = $1 AND at >= $2 AND at < $3 GROUP BY 1""";
  private static final String CONVERSIONS = """
      SELECT date_trunc($4, paid_at AT TIME ZONE 'Asia/Shanghai') AS b, count(*) AS n
      FROM campaign_conversions WHERE campaign_id = $1 AND undone_at IS NULL AND paid_at >= $2 AND paid_at < $3
      GROUP BY 1""";

  private final Pool pg;
  private final Clock clock;

  public CampaignStats(Pool pg, Clock clock) {
    this.pg = pg;
    this.clock = clock;
  }

  private record Bucket(long impressions, long clicks, long costMillifen) {}

  /** {@code from}/{@code to} null mean the campaign's whole life (from its creation or start to now). */
  public Future<JsonObject> of(Campaign c, OffsetDateTime from, OffsetDateTime to, String bucket) {
    ChronoUnit unit = bucket.equals("hour") ? ChronoUnit.HOURS : ChronoUnit.DAYS;
    OffsetDateTime now = OffsetDateTime.now(clock);
    OffsetDateTime start = from != null ? from
        : local(c.createdAt().isBefore(c.startAt()) ? c.createdAt() : c.startAt()).truncatedTo(unit)
            .atZone(SHANGHAI).toOffsetDateTime();
    OffsetDateTime end = to != null ? to
        : local(now).truncatedTo(unit).plus(1, unit).atZone(SHANGHAI).toOffsetDateTime();
    if (!end.isAfter(start)) {
      end = start.plus(1, unit);
    }
    LocalDateTime first = local(start).truncatedTo(unit);
    LocalDateTime last = local(end.minusNanos(1000)).truncatedTo(unit);
    if (unit.between(first, last) >= MAX_BUCKETS) {
      throw ApiException.invalid(new JsonObject().put("bucket", "the range has more than " + MAX_BUCKETS + " "
          + bucket + " buckets; use day buckets or a shorter range"));
    }
    Tuple args = Tuple.of(c.id(), start, end, bucket);
    return Future.all(pg.preparedQuery(LEDGER).execute(args), pg.preparedQuery(CONVERSIONS).execute(args))
        .map(all -> {
          Map<LocalDateTime, Bucket> ledger = new HashMap<>();
          for (Row r : all.<io.vertx.sqlclient.RowSet<Row>>resultAt(0)) {
            ledger.put(r.getLocalDateTime("b"), new Bucket(r.getLong("impressions"), r.getLong("clicks"),
                r.getLong("cost")));
          }
          Map<LocalDateTime, Long> conversions = new HashMap<>();
          for (Row r : all.<io.vertx.sqlclient.RowSet<Row>>resultAt(1)) {
            conversions.put(r.getLocalDateTime("b"), r.getLong("n"));
          }
          JsonArray series = new JsonArray();
          long impressions = 0;
          long clicks = 0;
          long cost = 0;
          long converted = 0;
          for (LocalDateTime t = first; !t.isAfter(last); t = t.plus(1, unit)) {
            Bucket b = ledger.getOrDefault(t, new Bucket(0, 0, 0));
            long n = conversions.getOrDefault(t, 0L);
            long spendBefore = Campaign.fen(cost);
            impressions += b.impressions();
            clicks += b.clicks();
            cost += b.costMillifen();
            converted += n;
            series.add(new JsonObject()
                .put("t", t.atZone(SHANGHAI).toOffsetDateTime().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))
                .put("impressions", b.impressions())
                .put("clicks", b.clicks())
                .put("spend", Campaign.fen(cost) - spendBefore)
                .put("conversions", n));
          }
          JsonObject totals = new JsonObject()
              .put("impressions", impressions)
              .put("clicks", clicks)
              .put("ctr", impressions == 0 ? 0.0 : (double) clicks / impressions)
              .put("spend", Campaign.fen(cost))
              .put("conversions", converted)
              .put("remainingBudget", Math.max(0, c.budgetTotalFen() - Campaign.fen(c.spentMillifen())));
          return new JsonObject().put("series", series).put("totals", totals);
        });
  }

  private static LocalDateTime local(OffsetDateTime t) {
    return t.atZoneSameInstant(SHANGHAI).toLocalDateTime();
  }
}

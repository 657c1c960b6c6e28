package io.wxmp.handlers.stats;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Respond;
import java.time.Clock;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/**
 * {@code GET /admin/stats/overview}: the merchant's dashboard, in hour or day buckets of Asia/Shanghai time. Every
 * role may read it; it only ever shows the caller's own merchant.
 */
public final class StatsRoutes {
  static final ZoneId SHANGHAI = ZoneId.of("Asia/Shanghai");
  static final int MAX_HOURS = 31 * 24;
  static final int MAX_DAYS = 366;
  private final StatsRepository stats;
  private final Clock clock;

  private StatsRoutes(StatsRepository stats, Clock clock) {
    this.stats = stats;
    this.clock = clock;
  }

  public static Router create(Deps deps) {
    StatsRoutes routes = new StatsRoutes(new StatsRepository(deps.pg()), Clock.systemUTC());
    Router router = Router.router(deps.vertx());
    router.get("/admin/stats/overview").handler(Respond.json(routes::overview));
    return router;
  }

  /** A range of whole buckets: {@code [start, end)}, both on bucket boundaries in Asia/Shanghai time. */
  record Range(ZonedDateTime start, ZonedDateTime end, ChronoUnit unit) {
    /**
     * Reads {@code from}, {@code to} (ISO-8601 with an offset, or a date meaning its Asia/Shanghai midnight; a date
     * as {@code to} includes that day) and {@code bucket} ({@code hour|day}, default day). Defaults: {@code to} now,
     * {@code from} 7 day buckets or 24 hour buckets before the end (the current one included). The range widens to
     * whole buckets.
     */
    static Range parse(String fromText, String toText, String bucketText, Clock clock) {
      JsonObject errors = new JsonObject();
      ChronoUnit unit = null;
      if (bucketText == null || bucketText.equals("day")) {
        unit = ChronoUnit.DAYS;
      } else if (bucketText.equals("hour")) {
        unit = ChronoUnit.HOURS;
      } else {
        errors.put("bucket", "must be hour or day");
      }
      ZonedDateTime from = instant(fromText, false, "from", errors);
      ZonedDateTime to = instant(toText, true, "to", errors);
      if (!errors.isEmpty()) {
        throw ApiException.invalid(errors);
      }
      if (to == null) {
        to = ZonedDateTime.now(clock).withZoneSameInstant(SHANGHAI);
      }
      if (from != null && !from.isBefore(to)) {
        throw ApiException.invalid(new JsonObject().put("from", "must be before to"));
      }
      ZonedDateTime end = to.truncatedTo(unit);
      if (end.isBefore(to)) {
        end = end.plus(1, unit);
      }
      // default: the last 7 days (today included) or the last 24 hours (this hour included)
      ZonedDateTime start = from == null ? end.minus(unit == ChronoUnit.DAYS ? 7 : 24, unit) : from.truncatedTo(unit);
      long buckets = unit.between(start, end);
      long max = unit == ChronoUnit.DAYS ? MAX_DAYS : MAX_HOURS;
      if (buckets > max) {
        throw ApiException.invalid(new JsonObject().put("to", "the range is at most " + max
            + (unit == ChronoUnit.DAYS ? " days" : " hours (use bucket=day for longer ranges)")));
      }
      return new Range(start, end, unit);
    }

    private static ZonedDateTime instant(String text, boolean endOfDay, String field, JsonObject errors) {
      if (text == null || text.isEmpty()) {
        return null;
      }
      // a '+' of an offset sent unencoded in a query string arrives as a space
      String value = text.strip().replace(' ', '+');
      try {
        if (value.length() == 10) {
          LocalDate date = LocalDate.parse(value);
          return (endOfDay ? date.plusDays(1) : date).atStartOfDay(SHANGHAI);
        }
        return OffsetDateTime.parse(value).atZoneSameInstant(SHANGHAI);
      } catch (DateTimeParseException e) {
        errors.put(field, "must be an ISO-8601 time with an offset (2026-12-01T00:00:00+08:00) or a date");
        return null;
      } catch (java.time.DateTimeException e) {
        errors.put(field, "is out of range");
        return null;
      }
    }

    String sqlUnit() {
      return unit == ChronoUnit.DAYS ? "day" : "hour";
    }
  }

  Future<JsonObject> overview(RoutingContext ctx) {
    var merchant = Authenticate.merchant(ctx);
    var q = ctx.queryParams();
    Range range = Range.parse(q.get("from"), q.get("to"), q.get("bucket"), clock);
    return stats.overview(merchant.merchantId(), range.start().toOffsetDateTime(), range.end().toOffsetDateTime(),
        range.sqlUnit()).map(overview -> render(range, overview));
  }

  static JsonObject render(Range range, StatsRepository.Overview overview) {
    JsonArray series = new JsonArray();
    long revenue = 0, orders = 0, refunds = 0, impressions = 0, clicks = 0, attempts = 0;
    for (ZonedDateTime t = range.start(); t.isBefore(range.end()); t = t.plus(1, range.unit())) {
      StatsRepository.Bucket b = overview.buckets().getOrDefault(t.toOffsetDateTime().withOffsetSameInstant(
          ZoneOffset.UTC), StatsRepository.Bucket.ZERO);
      series.add(new JsonObject()
          .put("t", time(t))
          .put("revenue", b.revenue())
          .put("orders", b.orders())
          .put("refunds", b.refunds())
          .put("buyers", b.buyers())
          .put("impressions", b.impressions())
          .put("clicks", b.clicks())
          .put("quizAttempts", b.quizAttempts()));
      revenue += b.revenue();
      orders += b.orders();
      refunds += b.refunds();
      impressions += b.impressions();
      clicks += b.clicks();
      attempts += b.quizAttempts();
    }
    return new JsonObject()
        .put("bucket", range.sqlUnit())
        .put("from", time(range.start()))
        .put("to", time(range.end()))
        .put("series", series)
        .put("totals", new JsonObject()
            .put("revenue", revenue)
            .put("orders", orders)
            .put("refunds", refunds)
            .put("buyers", overview.totalBuyers())
            .put("impressions", impressions)
            .put("clicks", clicks)
            .put("quizAttempts", attempts)
            .put("newUsers", overview.newUsers()));
  }

  private static String time(ZonedDateTime t) {
    return t.toOffsetDateTime().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
  }
}

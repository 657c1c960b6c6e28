package io.wxmp.handlers.platform;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.ApiException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/** SQL for experiments, their per-token events and the numbers of their results. */
public final class ExperimentRepository {
  private static final String INSERT = "INSERT INTO experiments (name, arms, salt, status) VALUES ($1, $2, $3, $4) "
      + "RETURNING " + Experiment.COLUMNS;
  private static final String BY_ID = "SELECT " + Experiment.COLUMNS + " FROM experiments WHERE id = $1";
  private static final String RUNNING = "SELECT " + Experiment.COLUMNS + " FROM experiments WHERE status = 'running'";
  private static final String LIST = "SELECT " + Experiment.COLUMNS
      + " FROM experiments WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2";
  /** Conditional on the status the change was validated against. */
  private static final String UPDATE = """
      UPDATE experiments SET name = $3, arms = $4, status = $5, updated_at = now(),
             started_at = CASE WHEN $5 = 'running' AND started_at IS NULL THEN now() ELSE started_at END,
             stopped_at = CASE WHEN $5 = 'stopped' AND stopped_at IS NULL THEN now() ELSE stopped_at END
      WHERE id = $1 AND status = $2 RETURNING\s""" + Experiment.COLUMNS;
  private static final String RECORD = """
      INSERT INTO experiment_events (experiment_id, arm, token_id, event_type, user_id, item_id, at)
      VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING""";
  private static final String COUNTS = """
      SELECT arm, count(DISTINCT user_id) AS users, count(*) FILTER (WHERE event_type = 'impression') AS impressions,
             count(*) FILTER (WHERE event_type = 'click') AS clicks
      FROM experiment_events WHERE experiment_id = $1 GROUP BY arm""";
  /**
   * Paid orders (not refunded in full) of an item the user clicked under the experiment in the 7 days before paying,
   * each order once, for the arm of that click (a user is in one arm, so there is one). The payment's time is to
   * the second (WeChat Pay's), so a click in that same second counts as before it.
   */
  private static final String CONVERSIONS = """
      SELECT arm, count(*) AS conversions FROM (
        SELECT DISTINCT ON (o.id) o.id, e.arm FROM orders o
        JOIN experiment_events e ON e.experiment_id = $1 AND e.event_type = 'click' AND e.user_id = o.user_id
             AND e.item_id = o.item_id AND e.at < o.paid_at + interval '1 second'
             AND e.at > o.paid_at - interval '7 days'
        WHERE o.paid_at IS NOT NULL AND o.refunded_fen < o.amount_fen
        ORDER BY o.id, e.at DESC) attributed
      GROUP BY arm""";

  private final Pool pg;

  public ExperimentRepository(Pool pg) {
    this.pg = pg;
  }

  public Pool pool() {
    return pg;
  }

  public Future<Experiment> insert(String name, JsonArray arms, String salt, String status) {
    return insert(pg, name, arms, salt, status);
  }

  public Future<Experiment> insert(SqlClient client, String name, JsonArray arms, String salt, String status) {
    return client.preparedQuery(INSERT).execute(Tuple.of(name, arms, salt, status)).map(ExperimentRepository::first)
        .recover(ExperimentRepository::oneRunning);
  }

  public Future<Experiment> byId(long id) {
    return pg.preparedQuery(BY_ID).execute(Tuple.of(id)).map(ExperimentRepository::first);
  }

  public Future<Experiment> running() {
    return pg.preparedQuery(RUNNING).execute().map(ExperimentRepository::first);
  }

  public Future<List<Experiment>> list(Long beforeId, int limit) {
    return pg.preparedQuery(LIST).execute(Tuple.of(beforeId, limit)).map(rows -> {
      List<Experiment> out = new ArrayList<>();
      rows.forEach(r -> out.add(Experiment.of(r)));
      return out;
    });
  }

  /** Null when the experiment moved meanwhile (or is gone); 409 when another one already runs. */
  public Future<Experiment> update(long id, String expectedStatus, String name, JsonArray arms, String status) {
    return update(pg, id, expectedStatus, name, arms, status);
  }

  public Future<Experiment> update(SqlClient client, long id, String expectedStatus, String name, JsonArray arms,
      String status) {
    return client.preparedQuery(UPDATE).execute(Tuple.of(id, expectedStatus, name, arms, status))
        .map(ExperimentRepository::first).recover(ExperimentRepository::oneRunning);
  }

  public Future<Void> record(long experimentId, String arm, String tokenId, String type, long userId, long itemId,
      OffsetDateTime at) {
    return pg.preparedQuery(RECORD).execute(Tuple.of(experimentId, arm, tokenId, type, userId, itemId, at))
        .mapEmpty();
  }

  public record ArmCounts(long users, long impressions, long clicks, long conversions) {}

  public Future<java.util.Map<String, ArmCounts>> counts(long experimentId) {
    return Future.all(pg.preparedQuery(COUNTS).execute(Tuple.of(experimentId)),
        pg.preparedQuery(CONVERSIONS).execute(Tuple.of(experimentId))).map(all -> {
          java.util.Map<String, Long> conversions = new java.util.HashMap<>();
          for (Row r : all.<RowSet<Row>>resultAt(1)) {
            conversions.put(r.getString("arm"), r.getLong("conversions"));
          }
          java.util.Map<String, ArmCounts> out = new java.util.HashMap<>();
          for (Row r : all.<RowSet<Row>>resultAt(0)) {
            out.put(r.getString("arm"), new ArmCounts(r.getLong("users"), r.getLong("impressions"),
                r.getLong("clicks"), conversions.getOrDefault(r.getString("arm"), 0L)));
          }
          return out;
        });
  }

  private static <T> Future<T> oneRunning(Throwable failure) {
    if (failure instanceof PgException pg && "23505".equals(pg.getSqlState())) {
      return Future.failedFuture(ApiException.conflict("experiment_running",
          "Another experiment is running; stop it first (one experiment runs at a time)."));
    }
    return Future.failedFuture(failure);
  }

  private static Experiment first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : Experiment.of(rows.iterator().next());
  }
}

package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/** SQL for the campaigns themselves, always scoped to a merchant on the admin side. */
public final class CampaignRepository {
  private static final String INSERT = """
      INSERT INTO campaigns (merchant_id, item_id, name, target_tags, new_users_only, bid_model, bid_fen,
                             budget_total_fen, budget_daily_fen, cap_impressions, cap_per_hours, start_at, end_at,
                             status)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING\s""" + Campaign.COLUMNS;
  private static final String BY_ID_FOR_MERCHANT =
      "SELECT " + Campaign.COLUMNS + " FROM campaigns WHERE id = $1 AND merchant_id = $2";
  private static final String BY_ID = "SELECT " + Campaign.COLUMNS + " FROM campaigns WHERE id = $1";
  private static final String LIST = "SELECT " + Campaign.COLUMNS + """
       FROM campaigns WHERE merchant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR id < $3)
      ORDER BY id DESC LIMIT $4""";
  /** Conditional on the status that the change was validated against: a concurrent move makes it match nothing. */
  private static final String UPDATE = """
      UPDATE campaigns SET item_id = $4, name = $5, target_tags = $6, new_users_only = $7, bid_model = $8,
             bid_fen = $9, budget_total_fen = $10, budget_daily_fen = $11, cap_impressions = $12, cap_per_hours = $13,
             start_at = $14, end_at = $15, status = $16, updated_at = now()
      WHERE id = $1 AND merchant_id = $2 AND status = $3 RETURNING\s""" + Campaign.COLUMNS;
  /** The merchant's own item, with its status, or nothing. */
  private static final String ITEM_STATUS = "SELECT status FROM items WHERE id = $1 AND merchant_id = $2";

  private final Pool pg;

  public CampaignRepository(Pool pg) {
    this.pg = pg;
  }

  public Pool pool() {
    return pg;
  }

  public Future<Campaign> insert(long merchantId, Campaign c) {
    return insert(pg, merchantId, c);
  }

  public Future<Campaign> insert(SqlClient client, long merchantId, Campaign c) {
    return client.preparedQuery(INSERT).execute(fields(Tuple.tuple().addValue(merchantId), c))
        .map(CampaignRepository::first);
  }

  public Future<Campaign> byIdForMerchant(long id, long merchantId) {
    return pg.preparedQuery(BY_ID_FOR_MERCHANT).execute(Tuple.of(id, merchantId)).map(CampaignRepository::first);
  }

  public Future<Campaign> byId(long id) {
    return pg.preparedQuery(BY_ID).execute(Tuple.of(id)).map(CampaignRepository::first);
  }

  public Future<List<Campaign>> list(long merchantId, String status, Long beforeId, int limit) {
    return pg.preparedQuery(LIST).execute(Tuple.of(merchantId, status, beforeId, limit)).map(rows -> {
      List<Campaign> out = new ArrayList<>();
      rows.forEach(r -> out.add(Campaign.of(r)));
      return out;
    });
  }

  /** Stores {@code c} if the campaign still has {@code expectedStatus}; null when it moved meanwhile (or is gone). */
  public Future<Campaign> update(long merchantId, String expectedStatus, Campaign c) {
    return update(pg, merchantId, expectedStatus, c);
  }

  public Future<Campaign> update(SqlClient client, long merchantId, String expectedStatus, Campaign c) {
    Tuple args = Tuple.tuple().addValue(c.id()).addValue(merchantId).addValue(expectedStatus)
        .addValue(c.itemId()).addValue(c.name()).addArrayOfString(c.targetTags().toArray(new String[0]))
        .addValue(c.newUsersOnly()).addValue(c.bidModel()).addValue(c.bidFen()).addValue(c.budgetTotalFen())
        .addValue(c.budgetDailyFen()).addValue(c.capImpressions()).addValue(c.capPerHours()).addValue(c.startAt())
        .addValue(c.endAt()).addValue(c.status());
    return client.preparedQuery(UPDATE).execute(args).map(CampaignRepository::first);
  }

  /** The status of the merchant's own item, or null when the merchant has no such item. */
  public Future<String> itemStatus(long itemId, long merchantId) {
    return pg.preparedQuery(ITEM_STATUS).execute(Tuple.of(itemId, merchantId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString(0));
  }

  private static Tuple fields(Tuple t, Campaign c) {
    return t.addValue(c.itemId()).addValue(c.name()).addArrayOfString(c.targetTags().toArray(new String[0]))
        .addValue(c.newUsersOnly()).addValue(c.bidModel()).addValue(c.bidFen()).addValue(c.budgetTotalFen())
        .addValue(c.budgetDailyFen()).addValue(c.capImpressions()).addValue(c.capPerHours()).addValue(c.startAt())
        .addValue(c.endAt()).addValue(c.status());
  }

  private static Campaign first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : Campaign.of(rows.iterator().next());
  }
}

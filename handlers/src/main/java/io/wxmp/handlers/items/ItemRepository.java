package io.wxmp.handlers.items;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.Audit;
import java.util.ArrayList;
import java.util.List;

/** SQL for items, always scoped to a merchant on the admin side, and the ownership rule users see. */
public final class ItemRepository {
  private static final String COLUMNS = """
      id, merchant_id, kind, title, summary, body, preview, cover_url, tags, price_fen, membership_days, status,
      created_at, updated_at""";
  private static final String INSERT = """
      INSERT INTO items (merchant_id, kind, title, summary, body, preview, cover_url, tags, price_fen, membership_days,
                         status)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING\s""" + COLUMNS;
  private static final String BY_ID_FOR_MERCHANT = "SELECT " + COLUMNS + " FROM items WHERE id = $1 AND merchant_id = $2";
  private static final String BY_ID = "SELECT " + COLUMNS + " FROM items WHERE id = $1";
  /** What users may reach: an item whose merchant is not suspended. */
  private static final String BY_ID_FOR_USERS = "SELECT " + COLUMNS + """
       FROM items WHERE id = $1
      AND EXISTS (SELECT 1 FROM merchants m WHERE m.id = items.merchant_id AND m.status = 'active')""";
  private static final String LIST = "SELECT " + COLUMNS + """
       FROM items WHERE merchant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR id < $3)
      ORDER BY id DESC LIMIT $4""";
  private static final String UPDATE = """
      UPDATE items SET title = $3, summary = $4, body = $5, preview = $6, cover_url = $7, tags = $8, price_fen = $9,
             membership_days = $10, status = $11, updated_at = now()
      WHERE id = $1 AND merchant_id = $2 RETURNING\s""" + COLUMNS;
  private static final String ARCHIVE = """
      UPDATE items SET status = 'archived', updated_at = now() WHERE id = $1 AND merchant_id = $2 RETURNING id""";
  /**
   * Whether the user has the item: an entitlement not revoked, or (for a paid item that is not itself a membership)
   * a membership of the item's merchant that still runs.
   */
  private static final String OWNS = """
      SELECT EXISTS (SELECT 1 FROM entitlements e WHERE e.user_id = $1 AND e.item_id = $2 AND e.revoked_at IS NULL)
          OR ($4 <> 'membership' AND EXISTS (SELECT 1 FROM memberships m
                WHERE m.user_id = $1 AND m.merchant_id = $3 AND m.member_until > now()))""";

  /** Whether the user bought the item (an entitlement not revoked); memberships do not count. */
  private static final String ENTITLED = """
      SELECT EXISTS (SELECT 1 FROM entitlements WHERE user_id = $1 AND item_id = $2 AND revoked_at IS NULL)""";

  private final Pool pg;

  public ItemRepository(Pool pg) {
    this.pg = pg;
  }

  /** Inserts the item and its audit entry in one transaction. */
  public Future<Item> insert(long merchantId, Item i, Audit.Who who) {
    return pg.withTransaction(tx -> tx.preparedQuery(INSERT).execute(Tuple.tuple().addValue(merchantId)
            .addValue(i.kind()).addValue(i.title()).addValue(i.summary()).addValue(i.body()).addValue(i.preview())
            .addValue(i.coverUrl()).addArrayOfString(i.tags().toArray(new String[0])).addValue(i.priceFen())
            .addValue(i.membershipDays()).addValue(i.status())).map(ItemRepository::first)
        .compose(item -> Audit.record(tx, who, "item.create", "item", item.id(), Audit.diff(null, item.auditJson()))
            .map(item)));
  }

  public Future<Item> byIdForMerchant(long id, long merchantId) {
    return pg.preparedQuery(BY_ID_FOR_MERCHANT).execute(Tuple.of(id, merchantId)).map(ItemRepository::first);
  }

  public Future<Item> byId(long id) {
    return pg.preparedQuery(BY_ID).execute(Tuple.of(id)).map(ItemRepository::first);
  }

  /** The item, unless its merchant is suspended (then null, as for no item at all). */
  public Future<Item> byIdForUsers(long id) {
    return pg.preparedQuery(BY_ID_FOR_USERS).execute(Tuple.of(id)).map(ItemRepository::first);
  }

  public Future<List<Item>> list(long merchantId, String status, Long beforeId, int limit) {
    return pg.preparedQuery(LIST).execute(Tuple.of(merchantId, status, beforeId, limit)).map(rows -> {
      List<Item> out = new ArrayList<>();
      rows.forEach(r -> out.add(Item.of(r)));
      return out;
    });
  }

  /**
   * Applies {@code change} to the current item under a row lock and stores the result with its audit entry, in one
   * transaction; {@code change} may fail (validation, content security), which changes nothing. Null when there is no
   * such item of this merchant.
   */
  public Future<Item> update(long merchantId, long id, java.util.function.Function<Item, Future<Item>> change,
      Audit.Who who) {
    return pg.withTransaction(tx -> tx.preparedQuery(BY_ID_FOR_MERCHANT + " FOR UPDATE").execute(Tuple.of(id, merchantId))
        .map(ItemRepository::first)
        .compose(current -> current == null ? Future.<Item>succeededFuture() : change.apply(current)
            .compose(i -> tx.preparedQuery(UPDATE).execute(Tuple.tuple().addValue(i.id()).addValue(merchantId)
                    .addValue(i.title()).addValue(i.summary()).addValue(i.body()).addValue(i.preview())
                    .addValue(i.coverUrl()).addArrayOfString(i.tags().toArray(new String[0])).addValue(i.priceFen())
                    .addValue(i.membershipDays()).addValue(i.status())).map(ItemRepository::first))
            .compose(updated -> Audit.record(tx, who, "item.update", "item", id,
                Audit.diff(current.auditJson(), updated.auditJson())).map(updated))));
  }

  /** Archives the item with its audit entry; false when there is no such item of this merchant. */
  public Future<Boolean> archive(long id, long merchantId, Audit.Who who) {
    return pg.withTransaction(tx -> tx.preparedQuery(BY_ID_FOR_MERCHANT + " FOR UPDATE").execute(Tuple.of(id, merchantId))
        .map(ItemRepository::first)
        .compose(current -> current == null ? Future.succeededFuture(false)
            : tx.preparedQuery(ARCHIVE).execute(Tuple.of(id, merchantId))
                .compose(rows -> Audit.record(tx, who, "item.archive", "item", id, new JsonObject()
                    .put("status", new JsonObject().put("from", current.status()).put("to", "archived"))))
                .map(true)));
  }

  public Future<Boolean> owns(long userId, Item item) {
    return pg.preparedQuery(OWNS).execute(Tuple.of(userId, item.id(), item.merchantId(), item.kind()))
        .map(rows -> rows.iterator().next().getBoolean(0));
  }

  public Future<Boolean> entitled(long userId, long itemId) {
    return pg.preparedQuery(ENTITLED).execute(Tuple.of(userId, itemId)).map(rows -> rows.iterator().next().getBoolean(0));
  }

  private static Item first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : Item.of(rows.iterator().next());
  }
}

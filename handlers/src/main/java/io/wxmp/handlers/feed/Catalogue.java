package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * This server's in-memory copy of the items users may be shown: published items of active merchants. Refreshed from
 * PostgreSQL by {@link #refresh()} (incrementally by {@code updated_at}, fully every {@link #FULL_EVERY} refreshes),
 * read lock-free through an immutable {@link Snapshot}. Pages still check eligibility in PostgreSQL before serving, so
 * a suspension or an unpublish between two refreshes never reaches a user.
 */
public final class Catalogue {
  static final int FULL_EVERY = 30;
  /**
   * Rows changed this long before the previous refresh began are fetched again (a transaction's {@code updated_at} is
   * its start, and it may commit later).
   */
  private static final long OVERLAP_MS = 10_000;

  private static final String COLUMNS = """
      i.id, i.merchant_id, i.kind, i.title, i.summary, i.cover_url, i.tags, i.price_fen, i.created_at, i.updated_at,
      i.status = 'published' AND m.status = 'active' AS eligible""";
  /** Rows a full refresh reads per statement: each chunk decodes in a few milliseconds of the event loop. */
  static final int CHUNK = 5_000;
  private static final String ALL = "SELECT " + COLUMNS
      + " FROM items i JOIN merchants m ON m.id = i.merchant_id WHERE i.status = 'published' AND m.status = 'active'"
      + " AND i.id > $1 ORDER BY i.id LIMIT $2";
  private static final String CHANGED = "SELECT " + COLUMNS
      + " FROM items i JOIN merchants m ON m.id = i.merchant_id WHERE i.updated_at >= $1";
  /** The database's clock (where the next incremental refresh starts) and the merchants whose items are hidden. */
  private static final String CLOCK_AND_MERCHANTS =
      "SELECT now() AS now, ARRAY(SELECT id FROM merchants WHERE status <> 'active') AS inactive";
  /** The final check before a page is served: which of these items are eligible now. */
  private static final String ELIGIBLE_NOW = """
      SELECT i.id FROM items i JOIN merchants m ON m.id = i.merchant_id
      WHERE i.id = ANY($1) AND i.status = 'published' AND m.status = 'active'""";

  /** An immutable view: eligible items by id, newest first, and by tag. */
  public record Snapshot(Map<Long, CatalogueItem> items, List<CatalogueItem> newestFirst,
      Map<String, List<CatalogueItem>> byTag, Set<Long> inactiveMerchants, long generation, ItemsById byId) {
    /** {@code items} indexed by id (a page's lookups go there: no boxing). */
    public Snapshot(Map<Long, CatalogueItem> items, List<CatalogueItem> newestFirst,
        Map<String, List<CatalogueItem>> byTag, Set<Long> inactiveMerchants, long generation) {
      this(items, newestFirst, byTag, inactiveMerchants, generation, new ItemsById(items));
    }

    public boolean eligible(long itemId) {
      return byId.get(itemId) != null;
    }

    public CatalogueItem get(long itemId) {
      return byId.get(itemId);
    }
  }

  private final Pool pg;
  private volatile Snapshot snapshot = build(new HashMap<>(), Set.of(), 0);
  /** The database's clock at the start of the previous refresh; null: the next one reads everything. */
  private Instant since;
  private int refreshes;

  public Catalogue(Pool pg) {
    this.pg = pg;
  }

  public Snapshot snapshot() {
    return snapshot;
  }

  /**
   * Brings the snapshot up to date; answers whether anything changed. Not re-entrant: one caller at a time.
   *
   * <p>First the database's clock and the inactive merchants, then the rows changed since the previous refresh's
   * clock minus {@link #OVERLAP_MS} (so an idle catalogue costs a few rows per refresh, not the whole last bulk
   * change again and again). Only rows that differ from the snapshot copy its map; an unchanged catalogue keeps its
   * snapshot without touching the other items.
   */
  public synchronized Future<Boolean> refresh() {
    boolean full = since == null || refreshes++ % FULL_EVERY == 0;
    Instant from = since;
    return pg.query(CLOCK_AND_MERCHANTS).execute().compose(clock -> {
      Row c = clock.iterator().next();
      Instant dbNow = c.getOffsetDateTime("now").toInstant();
      Long[] ids = c.getArrayOfLongs("inactive");
      Set<Long> inactive = new HashSet<>(ids == null ? List.of() : Arrays.asList(ids));
      if (full) {
        return all(Long.MIN_VALUE, inactive, new HashMap<>()).map(items -> applyFull(items, inactive, dbNow));
      }
      return pg.preparedQuery(CHANGED).execute(Tuple.of(OffsetDateTime.ofInstant(from.minusMillis(OVERLAP_MS),
          java.time.ZoneOffset.UTC))).map(rs -> apply(list(rs), inactive, dbNow));
    });
  }

  private synchronized boolean applyFull(Map<Long, CatalogueItem> items, Set<Long> inactiveNow, Instant dbNow) {
    Snapshot before = snapshot;
    since = dbNow;
    boolean changed = !items.equals(before.items()) || !inactiveNow.equals(before.inactiveMerchants());
    if (changed) {
      snapshot = build(items, inactiveNow, before.generation() + 1);
    }
    return changed;
  }

  private synchronized boolean apply(List<Row> rows, Set<Long> inactiveNow, Instant dbNow) {
    Snapshot before = snapshot;
    Map<Long, CatalogueItem> items = null; // copied from the snapshot at the first real difference
    for (Row r : rows) {
      long id = r.getLong("id");
      CatalogueItem was = before.items().get(id);
      if (r.getBoolean("eligible") && !inactiveNow.contains(r.getLong("merchant_id"))) {
        CatalogueItem item = of(r);
        if (!item.equals(was)) {
          items = items != null ? items : new HashMap<>(before.items());
          items.put(id, item);
        }
      } else if (was != null) {
        items = items != null ? items : new HashMap<>(before.items());
        items.remove(id);
      }
    }
    if (!inactiveNow.equals(before.inactiveMerchants())) {
      items = items != null ? items : new HashMap<>(before.items());
      items.values().removeIf(i -> inactiveNow.contains(i.merchantId()));
    }
    // A merchant that came back has items that did not change: the next refresh fetches everything.
    boolean reactivated = !inactiveNow.containsAll(before.inactiveMerchants());
    since = reactivated ? null : dbNow;
    boolean changed = items != null || !inactiveNow.equals(before.inactiveMerchants());
    if (changed) {
      snapshot = build(items != null ? items : new HashMap<>(before.items()), inactiveNow, before.generation() + 1);
    }
    return changed;
  }

  /** Of the given item ids, the ones eligible in PostgreSQL right now. */
  public Future<Set<Long>> eligibleNow(long[] ids) {
    if (ids.length == 0) {
      return Future.succeededFuture(Set.of());
    }
    Long[] boxed = Arrays.stream(ids).boxed().toArray(Long[]::new);
    return pg.preparedQuery(ELIGIBLE_NOW).execute(Tuple.tuple().addArrayOfLong(boxed)).map(rs -> {
      Set<Long> out = new HashSet<>();
      rs.forEach(r -> out.add(r.getLong(0)));
      return out;
    });
  }

  private static Snapshot build(Map<Long, CatalogueItem> items, Set<Long> inactive, long generation) {
    List<CatalogueItem> newest = new ArrayList<>(items.values());
    newest.sort(Comparator.comparing(CatalogueItem::createdAt).reversed()
        .thenComparing(Comparator.comparingLong(CatalogueItem::id).reversed()));
    Map<String, List<CatalogueItem>> byTag = new HashMap<>();
    for (CatalogueItem i : newest) {
      for (String t : i.tags()) {
        byTag.computeIfAbsent(t, k -> new ArrayList<>()).add(i);
      }
    }
    return new Snapshot(Map.copyOf(items), List.copyOf(newest), Map.copyOf(byTag), Set.copyOf(inactive), generation);
  }

  /**
   * Every eligible row, {@link #CHUNK} at a time in id order (not one snapshot: a row changed meanwhile is read again
   * by the next incremental refresh, which starts before this one did).
   */
  private Future<Map<Long, CatalogueItem>> all(long afterId, Set<Long> inactive, Map<Long, CatalogueItem> into) {
    return pg.preparedQuery(ALL).execute(Tuple.of(afterId, CHUNK)).compose(rs -> {
      long last = afterId;
      for (Row r : rs) {
        CatalogueItem item = of(r);
        last = item.id();
        if (!inactive.contains(item.merchantId())) {
          into.put(item.id(), item);
        }
      }
      return rs.size() < CHUNK ? Future.succeededFuture(into) : all(last, inactive, into);
    });
  }

  private static List<Row> list(io.vertx.sqlclient.RowSet<Row> rs) {
    List<Row> out = new ArrayList<>(rs.size());
    rs.forEach(out::add);
    return out;
  }

  static CatalogueItem of(Row r) {
    String[] tags = r.getArrayOfStrings("tags");
    return new CatalogueItem(r.getLong("id"), r.getLong("merchant_id"), r.getString("kind"), r.getString("title"),
        r.getString("summary"), r.getString("cover_url"), tags == null ? List.of() : List.of(tags),
        r.getLong("price_fen"), r.getOffsetDateTime("created_at").toInstant());
  }
}

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
  /** Rows changed this long before the newest change seen are fetched again (transactions commit out of order). */
  private static final long OVERLAP_MS = 10_000;

  private static final String COLUMNS = """
      i.id, i.merchant_id, i.kind, i.title, i.summary, i.cover_url, i.tags, i.price_fen, i.created_at, i.updated_at,
      i.status = 'published' AND m.status = 'active' AS eligible""";
  private static final String ALL = "SELECT " + COLUMNS
      + " FROM items i JOIN merchants m ON m.id = i.merchant_id WHERE i.status = 'published' AND m.status = 'active'";
  private static final String CHANGED = "SELECT " + COLUMNS
      + " FROM items i JOIN merchants m ON m.id = i.merchant_id WHERE i.updated_at >= $1";
  private static final String MERCHANTS = "SELECT id FROM merchants WHERE status <> 'active'";
  /** The final check before a page is served: which of these items are eligible now. */
  private static final String ELIGIBLE_NOW = """
      SELECT i.id FROM items i JOIN merchants m ON m.id = i.merchant_id
      WHERE i.id = ANY($1) AND i.status = 'published' AND m.status = 'active'""";

  /** An immutable view: eligible items by id, newest first, and by tag. */
  public record Snapshot(Map<Long, CatalogueItem> items, List<CatalogueItem> newestFirst,
      Map<String, List<CatalogueItem>> byTag, Set<Long> inactiveMerchants, long generation) {
    public boolean eligible(long itemId) {
      return items.containsKey(itemId);
    }

    public CatalogueItem get(long itemId) {
      return items.get(itemId);
    }
  }

  private final Pool pg;
  private volatile Snapshot snapshot = build(new HashMap<>(), Set.of(), 0);
  private Instant newestChange;
  private int refreshes;

  public Catalogue(Pool pg) {
    this.pg = pg;
  }

  public Snapshot snapshot() {
    return snapshot;
  }

  /** Brings the snapshot up to date; answers whether anything changed. Not re-entrant: one caller at a time. */
  public synchronized Future<Boolean> refresh() {
    boolean full = newestChange == null || refreshes++ % FULL_EVERY == 0;
    Future<List<Row>> rows = full
        ? pg.query(ALL).execute().map(Catalogue::list)
        : pg.preparedQuery(CHANGED).execute(Tuple.of(OffsetDateTime.ofInstant(newestChange.minusMillis(OVERLAP_MS),
            java.time.ZoneOffset.UTC))).map(Catalogue::list);
    Future<Set<Long>> inactive = pg.query(MERCHANTS).execute().map(rs -> {
      Set<Long> out = new HashSet<>();
      rs.forEach(r -> out.add(r.getLong(0)));
      return out;
    });
    return Future.all(rows, inactive).map(all -> {
      synchronized (this) {
        Snapshot before = snapshot;
        Map<Long, CatalogueItem> items = full ? new HashMap<>() : new HashMap<>(before.items());
        Instant newest = full ? null : newestChange;
        for (Row r : rows.result()) {
          long id = r.getLong("id");
          if (r.getBoolean("eligible")) {
            items.put(id, of(r));
          } else {
            items.remove(id);
          }
          Instant changed = r.getOffsetDateTime("updated_at").toInstant();
          if (newest == null || changed.isAfter(newest)) {
            newest = changed;
          }
        }
        Set<Long> inactiveNow = inactive.result();
        items.values().removeIf(i -> inactiveNow.contains(i.merchantId()));
        // A merchant that came back has items that did not change: the next refresh fetches everything.
        boolean reactivated = !inactiveNow.containsAll(before.inactiveMerchants());
        newestChange = reactivated ? null : newest == null ? Instant.EPOCH : newest;
        boolean changed = full || !items.equals(before.items());
        if (changed) {
          snapshot = build(items, inactiveNow, before.generation() + 1);
        }
        return changed;
      }
    });
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

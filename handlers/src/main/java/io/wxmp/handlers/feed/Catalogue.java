package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.wxmp.handlers.common.CatalogueGeneration;
import io.wxmp.handlers.common.ProfileCache;
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
import java.util.Objects;
import java.util.Set;

/**
 * This server's in-memory copy of the items users may be shown: published items of active merchants. Refreshed from
 * PostgreSQL by {@link #refresh()} (incrementally by {@code updated_at}, fully every {@link #FULL_EVERY} refreshes),
 * read lock-free through an immutable {@link Snapshot}. A page serves from the snapshot only while the catalogue's
 * {@link CatalogueGeneration} is the one the snapshot was read at; otherwise it checks its items in PostgreSQL
 * ({@link #eligibleNow}), so a suspension or an unpublish between two refreshes never reaches a user.
 */
public final class Catalogue {
  /**
   * A full read is the safety net for a row whose transaction ran longer than {@link #OVERLAP_MS} (its
   * {@code updated_at} is older than the incremental read's start when it commits); withdrawals do not wait for it (a
   * page checks in PostgreSQL while the {@link CatalogueGeneration} moved). Every 300 refreshes, 10 min at the default
   * 2 s: at 100,000 items a full read costs ≈ 0.6 s of PostgreSQL and ≈ 0.8 s of the event loops' CPU (FeedBench:
   * every 60 s it saturated the two cores for ≈ 2 s and put 124–157 ms into the p99 of a run at half the saturation).
   */
  static final int FULL_EVERY = 300;
  /**
   * Rows changed this long before the previous refresh began are fetched again (a transaction's {@code updated_at} is
   * its start, and it may commit later).
   */
  private static final long OVERLAP_MS = 10_000;

  private static final String COLUMNS = """
      i.id, i.merchant_id, i.kind, i.title, i.summary, i.cover_url, i.tags, i.price_fen, i.created_at, i.updated_at,
      i.status = 'published' AND m.status = 'active' AS eligible""";
  /** Rows a full refresh reads per statement: each chunk decodes in a millisecond or two of the event loop. */
  static final int CHUNK = 2_000;
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

  /**
   * An immutable view: eligible items by id, newest first, and by tag. {@code readAt}: the {@link CatalogueGeneration}
   * it holds every commit of (null: none, pages check in PostgreSQL).
   */
  public record Snapshot(Map<Long, CatalogueItem> items, List<CatalogueItem> newestFirst,
      Map<String, List<CatalogueItem>> byTag, Set<Long> inactiveMerchants, long generation, String readAt,
      ItemsById byId) {
    /** {@code items} indexed by id (a page's lookups go there: no boxing); read at no generation. */
    public Snapshot(Map<Long, CatalogueItem> items, List<CatalogueItem> newestFirst,
        Map<String, List<CatalogueItem>> byTag, Set<Long> inactiveMerchants, long generation) {
      this(items, newestFirst, byTag, inactiveMerchants, generation, null);
    }

    public Snapshot(Map<Long, CatalogueItem> items, List<CatalogueItem> newestFirst,
        Map<String, List<CatalogueItem>> byTag, Set<Long> inactiveMerchants, long generation, String readAt) {
      this(items, newestFirst, byTag, inactiveMerchants, generation, readAt, new ItemsById(items));
    }

    /** Whether a page that read {@code current} may serve from this snapshot without checking PostgreSQL. */
    public boolean currentAt(String current) {
      return readAt != null && readAt.equals(current);
    }

    Snapshot readAt(String at) {
      return new Snapshot(items, newestFirst, byTag, inactiveMerchants, generation, at, byId);
    }

    public boolean eligible(long itemId) {
      return byId.get(itemId) != null;
    }

    public CatalogueItem get(long itemId) {
      return byId.get(itemId);
    }
  }

  private final Pool pg;
  /** Null: no generation (every page checks in PostgreSQL). */
  private final CatalogueGeneration generations;
  private volatile Snapshot snapshot = build(new HashMap<>(), Set.of(), 0, null);
  /** The database's clock at the start of the previous refresh; null: the next one reads everything. */
  private Instant since;
  private int refreshes;

  public Catalogue(Pool pg) {
    this(pg, null);
  }

  public Catalogue(Pool pg, CatalogueGeneration generations) {
    this.pg = pg;
    this.generations = generations;
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
   *
   * <p>Before all that, the {@link CatalogueGeneration} (null while a write is in flight): the snapshot holds every
   * commit made before it was read. While a write is in flight, the next refresh reads from
   * {@link ProfileCache#WRITE_HOLD_MS} before this one's clock, so that write's rows are read whenever it commits.
   */
  public synchronized Future<Boolean> refresh() {
    boolean full = since == null || refreshes++ % FULL_EVERY == 0;
    Instant from = since;
    Future<String> generation = generations == null ? Future.succeededFuture() : generations.beforeRefresh();
    return generation.compose(at -> pg.query(CLOCK_AND_MERCHANTS).execute().compose(clock -> {
      Row c = clock.iterator().next();
      Instant dbNow = c.getOffsetDateTime("now").toInstant();
      Long[] ids = c.getArrayOfLongs("inactive");
      Set<Long> inactive = new HashSet<>(ids == null ? List.of() : Arrays.asList(ids));
      if (full) {
        return all(Long.MIN_VALUE, inactive, new HashMap<>()).map(items -> applyFull(items, inactive, dbNow, at));
      }
      return pg.preparedQuery(CHANGED).execute(Tuple.of(OffsetDateTime.ofInstant(from.minusMillis(OVERLAP_MS),
          java.time.ZoneOffset.UTC))).map(rs -> apply(list(rs), inactive, dbNow, at));
    }));
  }

  /** Where the next incremental refresh reads from: see {@link #refresh}. */
  private static Instant next(Instant dbNow, String at) {
    return at != null ? dbNow : dbNow.minusMillis(ProfileCache.WRITE_HOLD_MS);
  }

  private synchronized boolean applyFull(Map<Long, CatalogueItem> items, Set<Long> inactiveNow, Instant dbNow,
      String at) {
    Snapshot before = snapshot;
    since = next(dbNow, at);
    boolean changed = !sameItems(items, before) || !inactiveNow.equals(before.inactiveMerchants());
    if (changed) {
      snapshot = build(items, inactiveNow, before.generation() + 1, at);
    } else if (!Objects.equals(before.readAt(), at)) {
      snapshot = before.readAt(at);
    }
    return changed;
  }

  /** Whether a full read holds exactly the snapshot's items: its copies where equal ({@link #all}), so by reference. */
  private static boolean sameItems(Map<Long, CatalogueItem> items, Snapshot before) {
    if (items.size() != before.items().size()) {
      return false;
    }
    for (CatalogueItem item : items.values()) {
      if (before.get(item.id()) != item) {
        return false;
      }
    }
    return true;
  }

  private synchronized boolean apply(List<Row> rows, Set<Long> inactiveNow, Instant dbNow, String at) {
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
    since = reactivated ? null : next(dbNow, at);
    boolean changed = items != null || !inactiveNow.equals(before.inactiveMerchants());
    if (changed) {
      snapshot = build(items != null ? items : new HashMap<>(before.items()), inactiveNow, before.generation() + 1,
          at);
    } else if (!Objects.equals(before.readAt(), at)) {
      snapshot = before.readAt(at);
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

  private static Snapshot build(Map<Long, CatalogueItem> items, Set<Long> inactive, long generation, String at) {
    List<CatalogueItem> newest = new ArrayList<>(items.values());
    newest.sort(Comparator.comparing(CatalogueItem::createdAt).reversed()
        .thenComparing(Comparator.comparingLong(CatalogueItem::id).reversed()));
    Map<String, List<CatalogueItem>> byTag = new HashMap<>();
    for (CatalogueItem i : newest) {
      for (String t : i.tags()) {
        byTag.computeIfAbsent(t, k -> new ArrayList<>()).add(i);
      }
    }
    return new Snapshot(Map.copyOf(items), List.copyOf(newest), Map.copyOf(byTag), Set.copyOf(inactive), generation, at);
  }

  /**
   * Every eligible row, {@link #CHUNK} at a time in id order (not one snapshot: a row changed meanwhile is read again
   * by the next incremental refresh, which starts before this one did).
   */
  private Future<Map<Long, CatalogueItem>> all(long afterId, Set<Long> inactive, Map<Long, CatalogueItem> into) {
    return pg.preparedQuery(ALL).execute(Tuple.of(afterId, CHUNK)).compose(rs -> {
      long last = afterId;
      Snapshot before = snapshot;
      for (Row r : rs) {
        CatalogueItem item = of(r);
        last = item.id();
        if (!inactive.contains(item.merchantId())) {
          // the snapshot's own copy where nothing changed: the row just read is garbage at once, not a second copy
          // of the catalogue that lives through young collections until the comparison (tens of MB at 100k items)
          CatalogueItem was = before.get(item.id());
          into.put(item.id(), item.equals(was) ? was : item);
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

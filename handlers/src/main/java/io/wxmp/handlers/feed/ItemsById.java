package io.wxmp.handlers.feed;

import java.util.Map;

/**
 * A snapshot's items by id without boxing: open addressing over a {@code long[]} of ids and the items beside them,
 * built once per snapshot and only read after. A page looks up a few hundred ids (candidates, eligibility), where a
 * {@code Map<Long, ...>} probe boxes the id and follows the key object besides the table.
 */
final class ItemsById {
  private final long[] ids;
  private final CatalogueItem[] items;
  private final int mask;

  ItemsById(Map<Long, CatalogueItem> byId) {
    int capacity = Integer.highestOneBit(Math.max(4, byId.size() * 2 - 1)) << 1; // at most half full
    ids = new long[capacity];
    items = new CatalogueItem[capacity];
    mask = capacity - 1;
    byId.forEach((id, item) -> {
      int at = slot(id);
      while (items[at] != null) {
        at = (at + 1) & mask;
      }
      ids[at] = id;
      items[at] = item;
    });
  }

  /** The item with this id, or null. */
  CatalogueItem get(long id) {
    for (int at = slot(id); ; at = (at + 1) & mask) {
      CatalogueItem item = items[at];
      if (item == null || ids[at] == id) {
        return item;
      }
    }
  }

  private int slot(long id) {
    long h = id * 0x9E3779B97F4A7C15L; // ids are often consecutive: spread them over the table
    return (int) (h ^ (h >>> 32)) & mask;
  }
}

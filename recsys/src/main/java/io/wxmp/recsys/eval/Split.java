package io.wxmp.recsys.eval;

import io.wxmp.recsys.Interactions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A train/held-out split of binarised ratings in the two protocols of RECSYS.md §5.1.
 *
 * <ul>
 *   <li><b>strong generalisation</b> (Liang 2018, Rendle 2022): users with ≥ 5 positives are shuffled by the seed;
 *       15 % become validation users, 15 % test users, the rest train. Items are those seen in training. For each
 *       held-out user with ≥ 5 remaining items, 20 % of their items (random) are the target and the rest are folded
 *       in.</li>
 *   <li><b>temporal</b>: every user with ≥ 5 positives keeps the first 80 % of their positives (by time) in training
 *       and the last 20 % are the target; the fold-in of a user is their own training items.</li>
 * </ul>
 *
 * Item ids in train and in the held-out lists are dense 0..items-1 over the kept items.
 */
public record Split(Interactions train, int items, int[] keptItems, List<HeldOut> validation, List<HeldOut> test) {

  /** One evaluated user: the items folded in (the model sees them) and the target (hidden) items. */
  public record HeldOut(int[] fold, int[] target) {}

  public static final int MIN_POSITIVES = 5;

  /** Per user, distinct positive items (rating ≥ minRating), in first-seen order by (timestamp, input order). */
  static int[][] positives(Ratings r, double minRating) {
    Integer[] order = new Integer[r.size()];
    for (int k = 0; k < order.length; k++) {
      order[k] = k;
    }
    if (r.hasTimestamps()) {
      Arrays.sort(order, (a, b) -> Long.compare(r.timestamp()[a], r.timestamp()[b]));
    }
    int[] count = new int[r.users()];
    int[][] lists = new int[r.users()][4];
    boolean[] seen = new boolean[r.items()];
    // Deduplicate per user with a small scan (histories are short) via a per-user sorted check at the end.
    for (int k : order) {
      if (r.rating()[k] < minRating) {
        continue;
      }
      int u = r.user()[k];
      if (count[u] == lists[u].length) {
        lists[u] = Arrays.copyOf(lists[u], count[u] * 2);
      }
      lists[u][count[u]++] = r.item()[k];
    }
    int[][] out = new int[r.users()][];
    for (int u = 0; u < r.users(); u++) {
      int m = 0;
      int[] l = lists[u];
      for (int k = 0; k < count[u]; k++) {
        if (!seen[l[k]]) {
          seen[l[k]] = true;
          l[m++] = l[k];
        }
      }
      for (int k = 0; k < m; k++) {
        seen[l[k]] = false;
      }
      out[u] = Arrays.copyOf(l, m);
    }
    return out;
  }

  public static Split strong(Ratings r, double minRating, long seed) {
    int[][] pos = positives(r, minRating);
    List<Integer> eligible = new ArrayList<>();
    for (int u = 0; u < r.users(); u++) {
      if (pos[u].length >= MIN_POSITIVES) {
        eligible.add(u);
      }
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    int[] users = eligible.stream().mapToInt(Integer::intValue).toArray();
    shuffle(users, rnd);
    int nHeld = (int) Math.round(users.length * 0.15);
    int[] test = Arrays.copyOfRange(users, 0, nHeld);
    int[] val = Arrays.copyOfRange(users, nHeld, 2 * nHeld);
    int[] train = Arrays.copyOfRange(users, 2 * nHeld, users.length);
    int[] map = new int[r.items()];
    Arrays.fill(map, -1);
    int kept = 0;
    for (int u : train) {
      for (int i : pos[u]) {
        if (map[i] < 0) {
          map[i] = kept++;
        }
      }
    }
    int[] keptItems = keptItems(map, kept);
    Interactions trainData = build(train, pos, map, kept);
    return new Split(trainData, kept, keptItems, heldOut(val, pos, map, rnd), heldOut(test, pos, map, rnd));
  }

  public static Split temporal(Ratings r, double minRating) {
    if (!r.hasTimestamps()) {
      throw new IllegalArgumentException("the temporal protocol needs a timestamp column");
    }
    int[][] pos = positives(r, minRating); // in time order
    List<int[]> trainParts = new ArrayList<>();
    List<int[]> targets = new ArrayList<>();
    for (int u = 0; u < r.users(); u++) {
      if (pos[u].length < MIN_POSITIVES) {
        continue;
      }
      int n = pos[u].length;
      int nTarget = Math.max(1, (int) Math.round(n * 0.2));
      trainParts.add(Arrays.copyOfRange(pos[u], 0, n - nTarget));
      targets.add(Arrays.copyOfRange(pos[u], n - nTarget, n));
    }
    int[] map = new int[r.items()];
    Arrays.fill(map, -1);
    int kept = 0;
    for (int[] p : trainParts) {
      for (int i : p) {
        if (map[i] < 0) {
          map[i] = kept++;
        }
      }
    }
    int[][] lists = trainParts.toArray(new int[0][]);
    int[] all = new int[lists.length];
    for (int k = 0; k < all.length; k++) {
      all[k] = k;
    }
    Interactions trainData = build(all, lists, map, kept);
    List<HeldOut> held = new ArrayList<>();
    for (int k = 0; k < lists.length; k++) {
      int[] target = mapItems(targets.get(k), map);
      if (target.length > 0) {
        held.add(new HeldOut(mapItems(lists[k], map), target));
      }
    }
    return new Split(trainData, kept, keptItems(map, kept), List.of(), held);
  }

  private static List<HeldOut> heldOut(int[] users, int[][] pos, int[] map, SplittableRandom rnd) {
    List<HeldOut> out = new ArrayList<>();
    for (int u : users) {
      int[] items = mapItems(pos[u], map);
      if (items.length < MIN_POSITIVES) {
        continue;
      }
      shuffle(items, rnd);
      int nTarget = Math.max(1, (int) Math.round(items.length * 0.2));
      int[] target = Arrays.copyOfRange(items, 0, nTarget);
      int[] fold = Arrays.copyOfRange(items, nTarget, items.length);
      Arrays.sort(target);
      Arrays.sort(fold);
      out.add(new HeldOut(fold, target));
    }
    return out;
  }

  private static int[] mapItems(int[] items, int[] map) {
    return Arrays.stream(items).map(i -> map[i]).filter(i -> i >= 0).toArray();
  }

  private static int[] keptItems(int[] map, int kept) {
    int[] out = new int[kept];
    for (int i = 0; i < map.length; i++) {
      if (map[i] >= 0) {
        out[map[i]] = i;
      }
    }
    return out;
  }

  private static Interactions build(int[] users, int[][] pos, int[] map, int items) {
    int n = 0;
    for (int u : users) {
      n += pos[u].length;
    }
    int[] us = new int[n];
    int[] is = new int[n];
    float[] ss = new float[n];
    int e = 0;
    for (int k = 0; k < users.length; k++) {
      for (int i : pos[users[k]]) {
        us[e] = k;
        is[e] = map[i];
        ss[e] = 1;
        e++;
      }
    }
    return Interactions.of(users.length, items, us, is, ss);
  }

  static void shuffle(int[] a, SplittableRandom rnd) {
    for (int k = a.length - 1; k > 0; k--) {
      int j = rnd.nextInt(k + 1);
      int t = a[k];
      a[k] = a[j];
      a[j] = t;
    }
  }
}

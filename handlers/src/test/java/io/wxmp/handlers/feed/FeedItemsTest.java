package io.wxmp.handlers.feed;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.wxmp.handlers.feed.FeedItems.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The feed page's hand-written JSON and lookups against the JsonObject path and the plain computations they replace:
 * the same characters for FeedItems and tokens, the same reasons, the same items by id, the same "another page".
 */
class FeedItemsTest {
  private static final String[] ODD = {"", "plain", "中文标题 🎉 emoji", "quote \" and \\ backslash", "slash / </script>",
      "tab\tnew\nline\rcr\bbs\ffeed", "\u0000\u0001\u001f\u007f", "\u2028\u2029", "\ud83d", "é", "{\"json\":1}"};

  private static String text(SplittableRandom r) {
    if (r.nextInt(3) == 0) {
      return ODD[r.nextInt(ODD.length)];
    }
    StringBuilder b = new StringBuilder();
    int n = r.nextInt(40);
    for (int i = 0; i < n; i++) {
      int kind = r.nextInt(4);
      b.append((char) switch (kind) {
        case 0 -> r.nextInt(0x20);
        case 1 -> 0x20 + r.nextInt(0x60);
        case 2 -> 0x4e00 + r.nextInt(0x5000);
        default -> r.nextInt(0x10000);
      });
    }
    return b.toString();
  }

  private static CatalogueItem item(SplittableRandom r, long id) {
    List<String> tags = new ArrayList<>();
    for (int t = r.nextInt(4); t > 0; t--) {
      tags.add(text(r));
    }
    String[] kinds = {"article", "course", "product", "quiz", "membership"};
    return new CatalogueItem(id, r.nextInt(50), kinds[r.nextInt(kinds.length)], text(r),
        r.nextInt(5) == 0 ? null : text(r), r.nextInt(5) == 0 ? null : "https://cdn.example.com/" + text(r),
        List.copyOf(tags), r.nextBoolean() ? null : (long) r.nextInt(1_000_000),
        Instant.now().minus(Duration.ofHours(r.nextInt(24 * 30))));
  }

  private static Reason reason(SplittableRandom r) {
    return switch (r.nextInt(7)) {
      case 0 -> Reason.TRENDING;
      case 1 -> Reason.NEW;
      case 2 -> Reason.EXPLORE;
      case 3 -> Reason.SPONSORED;
      case 4 -> new Reason("similar", item(r, r.nextLong()), null);
      case 5 -> new Reason("popular_with_tag", null, text(r));
      default -> null;
    };
  }

  @Test
  void writtenItemsAreTheCharactersOfTheJsonObjectPath() {
    SplittableRandom r = new SplittableRandom(8);
    byte[] key = FeedToken.newKey();
    for (int n = 0; n < 5_000; n++) {
      CatalogueItem item = item(r, r.nextInt(3) == 0 ? r.nextLong() : n);
      String campaignId = r.nextBoolean() ? null : text(r);
      Reason reason = reason(r);
      String token = r.nextInt(4) == 0 ? null : new FeedToken(FeedToken.newTokenId(), text(r), Long.toString(item.id()),
          r.nextInt(50), reason == null ? "new" : reason.kind(), campaignId, r.nextBoolean() ? null : text(r),
          r.nextBoolean() ? null : text(r), r.nextBoolean() ? null : text(r), r.nextLong()).sign(key);
      boolean locked = r.nextBoolean();
      StringBuilder out = new StringBuilder("[");
      FeedItems.write(out, item, locked, campaignId, reason, token);
      String expected = FeedItems.json(item, locked, campaignId, reason, token).encode();
      assertThat(out.substring(1)).isEqualTo(expected);
      assertThat(new JsonObject(out.substring(1))).isEqualTo(new JsonObject(expected));
    }
  }

  @Test
  void tokenPayloadIsTheJsonArraysEncoding() {
    SplittableRandom r = new SplittableRandom(9);
    byte[] key = FeedToken.newKey();
    for (int n = 0; n < 5_000; n++) {
      FeedToken t = new FeedToken(FeedToken.newTokenId(), text(r), text(r), r.nextInt(), text(r),
          r.nextBoolean() ? null : text(r), r.nextBoolean() ? null : text(r), r.nextBoolean() ? null : text(r),
          r.nextBoolean() ? null : text(r), r.nextLong());
      assertThat(t.payload()).isEqualTo(new JsonArray().add("1").add(t.tokenId()).add(t.userId()).add(t.itemId())
          .add(t.position()).add(t.reasonKind()).add(t.campaignId()).add(t.experimentId()).add(t.arm())
          .add(t.modelVersion()).add(t.issuedAtMs()).encode());
      if (t.toString().chars().noneMatch(c -> Character.isSurrogate((char) c))) { // else UTF-8 has '?' for them
        assertThat(FeedToken.verify(t.sign(key), key)).isEqualTo(t);
      }
    }
    String[] ids = FeedToken.newTokenIds(20);
    assertThat(new HashSet<>(List.of(ids))).hasSize(20);
    for (String id : ids) {
      assertThat(id).matches("[A-Za-z0-9_-]{22}");
    }
  }

  /** The reason as the page computed it before: one cosine at a time. */
  private static Reason oneAtATime(CatalogueItem item, float[] v, List<CatalogueItem> because,
      List<float[]> vectors) {
    CatalogueItem best = null;
    float bestCos = 0;
    float norm = v == null ? 0 : Vectors.norm(v);
    for (int i = 0; v != null && i < because.size(); i++) {
      if (because.get(i).id() == item.id()) {
        continue;
      }
      float n = norm * Vectors.norm(vectors.get(i));
      float c = n == 0 ? 0 : Vectors.dot(v, vectors.get(i)) / n;
      if (best == null || c > bestCos) {
        best = because.get(i);
        bestCos = c;
      }
    }
    if (best != null && bestCos > 0) {
      return new Reason("similar", best, null);
    }
    return FeedService.isFresh(item, Instant.now()) ? Reason.NEW : Reason.EXPLORE;
  }

  @Test
  void similarReasonsAreTheOnesOfOneCosineAtATime() {
    SplittableRandom r = new SplittableRandom(10);
    int dim = 64;
    for (int page = 0; page < 300; page++) {
      int nb = r.nextInt(22);
      List<CatalogueItem> because = new ArrayList<>();
      List<float[]> vectors = new ArrayList<>();
      for (int i = 0; i < nb; i++) {
        because.add(item(r, r.nextInt(100)));
        float[] v = new float[dim];
        for (int d = 0; d < dim; d++) {
          v[d] = (float) r.nextDouble(-1, 1);
        }
        vectors.add(v);
      }
      float[] norms = new float[nb];
      for (int i = 0; i < nb; i++) {
        norms[i] = Vectors.norm(vectors.get(i));
      }
      FeedService.Because b = new FeedService.Because(null, because, vectors, norms);
      for (int k = 0; k < 20; k++) {
        CatalogueItem item = r.nextInt(4) == 0 && nb > 0 ? because.get(r.nextInt(nb)) : item(r, r.nextInt(100));
        float[] v = null;
        if (r.nextInt(10) > 0) {
          v = new float[dim];
          for (int d = 0; d < dim; d++) {
            v[d] = r.nextInt(20) == 0 ? 0 : (float) r.nextDouble(-1, 1);
          }
          if (r.nextInt(15) == 0) {
            v = new float[dim];
          }
        }
        assertThat(b.reasonFor(item, v)).isEqualTo(oneAtATime(item, v, because, vectors));
      }
    }
  }

  @Test
  void snapshotLookupsAndAnotherPageAgreeWithTheMaps() {
    SplittableRandom r = new SplittableRandom(11);
    for (int size : new int[] {0, 1, 7, 100, 5_000}) {
      Map<Long, CatalogueItem> items = new HashMap<>();
      while (items.size() < size) {
        long id = r.nextBoolean() ? r.nextInt(3 * size + 1) : r.nextLong();
        items.put(id, item(r, id));
      }
      Catalogue.Snapshot snap = new Catalogue.Snapshot(Map.copyOf(items), List.of(), Map.of(), Set.of(), 1);
      for (long id : items.keySet()) {
        assertThat(snap.get(id)).isSameAs(items.get(id));
      }
      for (int n = 0; n < 2_000; n++) {
        long id = r.nextBoolean() ? r.nextInt(3 * size + 1) : r.nextLong();
        assertThat(snap.get(id)).isEqualTo(items.get(id));
        assertThat(snap.eligible(id)).isEqualTo(items.containsKey(id));
      }
      List<Long> ids = new ArrayList<>(items.keySet());
      for (int n = 0; n < 200; n++) {
        Set<Long> excluded = new HashSet<>();
        int ex = size == 0 ? r.nextInt(3) : r.nextInt(size + 3);
        for (int i = 0; i < ex; i++) {
          excluded.add(r.nextInt(4) == 0 || ids.isEmpty() ? r.nextLong() : ids.get(r.nextInt(ids.size())));
        }
        long[] shown = new long[r.nextInt(4)];
        for (int i = 0; i < shown.length; i++) {
          shown[i] = ids.isEmpty() || r.nextInt(5) == 0 ? r.nextLong() : ids.get(r.nextInt(ids.size()));
        }
        // as the page counted before: every excluded id, then the shown ones
        long gone = excluded.stream().filter(items::containsKey).count();
        Set<Long> shownSet = new HashSet<>();
        for (long id : shown) {
          shownSet.add(id);
        }
        gone += shownSet.stream().filter(id -> !excluded.contains(id) && items.containsKey(id)).count();
        assertThat(FeedService.anotherPage(snap, excluded, shown)).isEqualTo(items.size() - gone > 0);
      }
    }
  }
}

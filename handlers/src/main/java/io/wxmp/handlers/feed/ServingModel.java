package io.wxmp.handlers.feed;

import io.wxmp.recsys.FoldIn;
import io.wxmp.recsys.IalsParams;
import io.wxmp.recsys.TagVectors;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One model version as this server serves it: the trained item vectors (for fold-in), tag vectors (for cold items),
 * and the vector of every item in its ranking collection. Pages take {@link ModelServing#current()} once and use only
 * that object, so a page never mixes two versions.
 */
public final class ServingModel {
  private final long modelId;
  private final String version;
  private final IalsParams params;
  private final Map<Long, Integer> trainedRow;
  private final long[] trainedIds;
  private final FoldIn foldIn;
  private final Map<String, float[]> tagVectors;
  /** Every item of the ranking collection and its vector there (trained, from tags, or zero). */
  final Map<Long, float[]> inCollection = new ConcurrentHashMap<>();
  private final Map<Long, float[]> trained = new HashMap<>();

  ServingModel(long modelId, String version, IalsParams params, long[] trainedIds, float[] trainedVectors,
      Map<Long, List<String>> tagsOf) {
    this.modelId = modelId;
    this.version = version;
    this.params = params;
    this.trainedIds = trainedIds;
    this.trainedRow = new HashMap<>(trainedIds.length * 2);
    for (int i = 0; i < trainedIds.length; i++) {
      trainedRow.put(trainedIds[i], i);
    }
    this.foldIn = new FoldIn(params, trainedIds.length, trainedVectors);
    Map<String, Integer> tagIndex = new HashMap<>();
    int[][] itemTags = new int[trainedIds.length][];
    for (int i = 0; i < trainedIds.length; i++) {
      List<String> tags = tagsOf.getOrDefault(trainedIds[i], List.of());
      itemTags[i] = new int[tags.size()];
      for (int t = 0; t < tags.size(); t++) {
        itemTags[i][t] = tagIndex.computeIfAbsent(tags.get(t), k -> tagIndex.size());
      }
    }
    float[] tags = TagVectors.derive(params, trainedIds.length, trainedVectors, itemTags, tagIndex.size());
    this.tagVectors = new HashMap<>();
    int d = params.dim();
    tagIndex.forEach((tag, row) -> {
      float[] v = new float[d];
      System.arraycopy(tags, row * d, v, 0, d);
      if (Vectors.norm(v) > 0) {
        tagVectors.put(tag, v);
      }
    });
    for (int i = 0; i < trainedIds.length; i++) {
      float[] v = new float[d];
      System.arraycopy(trainedVectors, i * d, v, 0, d);
      trained.put(trainedIds[i], v);
    }
  }

  public long modelId() {
    return modelId;
  }

  public String version() {
    return version;
  }

  public String collection() {
    return "feed-" + version;
  }

  public int dim() {
    return params.dim();
  }

  public IalsParams params() {
    return params;
  }

  public int trainedItems() {
    return trainedIds.length;
  }

  /** The item's vector for serving: trained, else the mean of its known tags' vectors, else zero. */
  float[] vectorFor(long itemId, List<String> tags) {
    float[] v = trained.get(itemId);
    return v != null ? v : fromTags(tags);
  }

  float[] fromTags(List<String> tags) {
    float[] out = new float[params.dim()];
    int n = 0;
    for (String t : tags) {
      float[] v = tagVectors.get(t);
      if (v != null) {
        for (int d = 0; d < out.length; d++) {
          out[d] += v[d];
        }
        n++;
      }
    }
    if (n > 1) {
      for (int d = 0; d < out.length; d++) {
        out[d] /= n;
      }
    }
    return out;
  }

  /** The vector of an item in the collection, or null. */
  float[] vector(long itemId) {
    return inCollection.get(itemId);
  }

  /**
   * The iALS user step from a history (item ids, decayed strengths); items the model was not trained on are left out.
   * Null when none of the history is in the model.
   */
  float[] foldIn(List<String> itemIds, float[] strengths) {
    int[] rows = new int[itemIds.size()];
    float[] s = new float[itemIds.size()];
    int n = 0;
    for (int i = 0; i < itemIds.size(); i++) {
      Long id = parse(itemIds.get(i));
      Integer row = id == null ? null : trainedRow.get(id);
      if (row != null && strengths[i] > 0) {
        rows[n] = row;
        s[n++] = strengths[i];
      }
    }
    if (n == 0) {
      return null;
    }
    return foldIn.solve(java.util.Arrays.copyOf(rows, n), java.util.Arrays.copyOf(s, n));
  }

  private static Long parse(String id) {
    try {
      return Long.parseLong(id);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}

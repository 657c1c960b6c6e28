package io.wxmp.handlers.feed;

import io.vertx.core.json.JsonObject;

/**
 * The knobs of page assembly that an experiment arm may change (see {@link FeedExperiments}); {@link #defaults()} is
 * what every user gets outside an experiment.
 *
 * @param mmrLambda          MMR trade-off, 0..1: 1 is plain relevance order, lower values favour variety
 * @param explorationShare   share of each page, 0..0.5, given to items with few impressions
 * @param fatigueImpressions unclicked impressions in 7 days after which an item leaves the user's feed, 1..100
 * @param modelVersion       the model version to rank with; null for the newest one
 * @param sponsoredSlots     whether sponsored entries may be placed in the page
 * @param perMerchantCap     most items of one merchant in a page (soft: gives way when nothing else can fill it), 1..50
 */
public record FeedParams(double mmrLambda, double explorationShare, int fatigueImpressions, String modelVersion,
    boolean sponsoredSlots, int perMerchantCap) {

  public FeedParams {
    check(mmrLambda >= 0 && mmrLambda <= 1, "mmrLambda", "must be 0..1");
    check(explorationShare >= 0 && explorationShare <= 0.5, "explorationShare", "must be 0..0.5");
    check(fatigueImpressions >= 1 && fatigueImpressions <= 100, "fatigueImpressions", "must be 1..100");
    check(perMerchantCap >= 1 && perMerchantCap <= 50, "perMerchantCap", "must be 1..50");
    check(modelVersion == null || (!modelVersion.isBlank() && modelVersion.length() <= 64), "modelVersion",
        "must be null or a model version");
  }

  /** MMR λ 0.7 (RECSYS.md §5.5), 10 % exploration, fatigue after 3 impressions, newest model, ads on, 3 per merchant. */
  public static FeedParams defaults() {
    return new FeedParams(0.7, 0.1, 3, null, true, 3);
  }

  /**
   * The defaults with the fields present in {@code json} replaced ({@code {"mmrLambda": 0.5}}); an unknown field or
   * a value out of range throws {@link IllegalArgumentException} whose message starts with the field name.
   */
  public static FeedParams fromJson(JsonObject json) {
    FeedParams d = defaults();
    if (json == null) {
      return d;
    }
    for (String name : json.fieldNames()) {
      check(JSON_FIELDS.contains(name), name, "is not a feed parameter (known: " + String.join(", ", JSON_FIELDS) + ")");
    }
    return new FeedParams(number(json, "mmrLambda", d.mmrLambda()), number(json, "explorationShare", d.explorationShare()),
        (int) whole(json, "fatigueImpressions", d.fatigueImpressions()),
        json.containsKey("modelVersion") ? text(json, "modelVersion") : d.modelVersion(),
        json.containsKey("sponsoredSlots") ? bool(json, "sponsoredSlots") : d.sponsoredSlots(),
        (int) whole(json, "perMerchantCap", d.perMerchantCap()));
  }

  public JsonObject toJson() {
    return new JsonObject().put("mmrLambda", mmrLambda).put("explorationShare", explorationShare)
        .put("fatigueImpressions", fatigueImpressions).put("modelVersion", modelVersion)
        .put("sponsoredSlots", sponsoredSlots).put("perMerchantCap", perMerchantCap);
  }

  private static final java.util.List<String> JSON_FIELDS = java.util.List.of("mmrLambda", "explorationShare",
      "fatigueImpressions", "modelVersion", "sponsoredSlots", "perMerchantCap");

  private static double number(JsonObject json, String name, double fallback) {
    Object v = json.getValue(name, fallback);
    check(v instanceof Number, name, "must be a number");
    double d = ((Number) v).doubleValue();
    check(Double.isFinite(d), name, "must be a finite number");
    return d;
  }

  private static long whole(JsonObject json, String name, long fallback) {
    Object v = json.getValue(name, fallback);
    check(v instanceof Integer || v instanceof Long, name, "must be a whole number");
    return ((Number) v).longValue();
  }

  private static String text(JsonObject json, String name) {
    Object v = json.getValue(name);
    check(v == null || v instanceof String, name, "must be a string or null");
    return (String) v;
  }

  private static boolean bool(JsonObject json, String name) {
    Object v = json.getValue(name);
    check(v instanceof Boolean, name, "must be true or false");
    return (Boolean) v;
  }

  private static void check(boolean ok, String field, String what) {
    if (!ok) {
      throw new IllegalArgumentException(field + " " + what);
    }
  }
}

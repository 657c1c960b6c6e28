package io.wxmp.handlers.events;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Confidence per event type (RECSYS.md §4.2), from the one setting {@code WXMP_FEED_EVENT_WEIGHTS}, e.g.
 * {@code click=1,like=2,share=2,dwell=1,complete=3,purchase=5,quiz=2}. Used by the online state and by the feed's
 * training, so both count an event the same. Impressions are never positives (weight 0); a {@code refund} event
 * cancels its purchase (minus the purchase weight); a type left out of the setting weighs 0.
 */
public final class EventWeights {
  public static final String DEFAULT = "click=1,like=2,share=2,dwell=1,complete=3,purchase=5,quiz=2";
  /** The types a weight may be given for: the client types, the server's purchases, and quiz interest rows. */
  public static final List<String> TYPES =
      List.of("impression", "click", "like", "share", "dwell", "complete", "purchase", "quiz");

  private final Map<String, Float> weights;

  private EventWeights(Map<String, Float> weights) {
    this.weights = Collections.unmodifiableMap(weights);
  }

  public static EventWeights defaults() {
    return parse(DEFAULT);
  }

  /**
   * Parses {@code type=weight} pairs separated by commas; throws {@link IllegalArgumentException} with a message for a
   * person on an unknown type, a repeated type, a weight that is not a number in 0..100, or an impression weight.
   */
  public static EventWeights parse(String text) {
    Map<String, Float> weights = new LinkedHashMap<>();
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("must list type=weight pairs, e.g. " + DEFAULT);
    }
    for (String pair : text.split(",")) {
      String[] kv = pair.split("=", -1);
      if (kv.length != 2) {
        throw new IllegalArgumentException("'" + pair.strip() + "' is not type=weight");
      }
      String type = kv[0].strip();
      if (!TYPES.contains(type)) {
        throw new IllegalArgumentException("unknown event type '" + type + "' (one of " + String.join(", ", TYPES) + ")");
      }
      float weight;
      try {
        weight = Float.parseFloat(kv[1].strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("the weight of " + type + " is not a number");
      }
      if (!(weight >= 0 && weight <= 100)) {
        throw new IllegalArgumentException("the weight of " + type + " must be in 0..100");
      }
      if (type.equals("impression") && weight != 0) {
        throw new IllegalArgumentException("impressions are not positives: their weight must be 0");
      }
      if (weights.put(type, weight) != null) {
        throw new IllegalArgumentException(type + " is given twice");
      }
    }
    return new EventWeights(weights);
  }

  /** The confidence one event of this type adds; 0 for impressions and unlisted types, minus a purchase for a refund. */
  public float weight(String type) {
    if ("refund".equals(type)) {
      return -weights.getOrDefault("purchase", 0f);
    }
    return weights.getOrDefault(type, 0f);
  }

  /** Whether an event of this type is a positive signal (it counts for history, trending and tags). */
  public boolean positive(String type) {
    return weight(type) > 0;
  }

  public Map<String, Float> asMap() {
    return weights;
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    weights.forEach((k, v) -> out.append(out.isEmpty() ? "" : ",").append(k).append('=').append(v));
    return out.toString();
  }
}

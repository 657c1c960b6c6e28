package io.wxmp.sandbox;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/** Counters that tests read through {@code GET /sandbox/stats}; touched only on the sandbox's event loop. */
final class Stats {
  private final Map<String, Long> counters = new LinkedHashMap<>();

  Stats(String... names) {
    for (String name : names) {
      counters.put(name, 0L);
    }
  }

  void increment(String name) {
    counters.merge(name, 1L, Long::sum);
  }

  JsonObject toJson() {
    JsonObject json = new JsonObject();
    counters.forEach(json::put);
    return json;
  }
}

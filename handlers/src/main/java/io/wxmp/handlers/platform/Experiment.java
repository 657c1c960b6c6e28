package io.wxmp.handlers.platform;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.feed.FeedParams;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * A feed experiment: named arms, each a share of the users and a set of {@link FeedParams}. A user's arm is
 * {@code SHA-256(id:salt:user) mod 10,000} placed on the arms' cumulative shares, so every server computes the same
 * arm and it never changes while the experiment runs (arms and shares are frozen once it leaves draft).
 */
public record Experiment(long id, String name, List<Arm> arms, String salt, String status, OffsetDateTime createdAt,
    OffsetDateTime updatedAt, OffsetDateTime startedAt, OffsetDateTime stoppedAt) {

  public static final List<String> STATUSES = List.of("draft", "running", "stopped");
  static final int BUCKETS = 10_000;
  static final String COLUMNS = "id, name, arms, salt, status, created_at, updated_at, started_at, stopped_at";

  public record Arm(String name, double share, FeedParams params) {
    JsonObject toJson() {
      return new JsonObject().put("name", name).put("share", share).put("params", params.toJson());
    }
  }

  static Experiment of(Row r) {
    Object raw = r.getValue("arms");
    JsonArray arms = raw instanceof JsonArray a ? a : new JsonArray(raw.toString());
    List<Arm> out = new ArrayList<>();
    for (Object o : arms) {
      JsonObject a = (JsonObject) o;
      out.add(new Arm(a.getString("name"), a.getDouble("share"), FeedParams.fromJson(a.getJsonObject("params"))));
    }
    return new Experiment(r.getLong("id"), r.getString("name"), out, r.getString("salt"), r.getString("status"),
        r.getOffsetDateTime("created_at"), r.getOffsetDateTime("updated_at"), r.getOffsetDateTime("started_at"),
        r.getOffsetDateTime("stopped_at"));
  }

  static JsonArray armsJson(List<Arm> arms) {
    JsonArray out = new JsonArray();
    arms.forEach(a -> out.add(a.toJson()));
    return out;
  }

  /** The arm of {@code userId}: stable for this experiment, the same on every server. */
  public Arm armOf(String userId) {
    int bucket = bucket(id, salt, userId);
    int cumulative = 0;
    for (int i = 0; i < arms.size(); i++) {
      cumulative += (int) Math.round(arms.get(i).share() * BUCKETS);
      if (bucket < cumulative) {
        return arms.get(i);
      }
    }
    return arms.get(arms.size() - 1);
  }

  static int bucket(long experimentId, String salt, String userId) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256")
          .digest((experimentId + ":" + salt + ":" + userId).getBytes(StandardCharsets.UTF_8));
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (h[i] & 0xff);
      }
      return (int) Long.remainderUnsigned(v, BUCKETS);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("id", Json.id(id))
        .put("name", name)
        .put("arms", armsJson(arms))
        .put("status", status)
        .put("createdAt", Json.time(createdAt))
        .put("updatedAt", Json.time(updatedAt))
        .put("startedAt", Json.time(startedAt))
        .put("stoppedAt", Json.time(stoppedAt));
  }
}

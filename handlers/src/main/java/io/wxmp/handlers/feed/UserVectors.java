package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.wxmp.handlers.common.Redis;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Users' folded-in vectors in Redis (the fold-in listener writes them after each batch of events, pages read them):
 * one string per user, {@code <modelVersion>|<becauseOf ids>|<base64 vector>}, under the user's hash tag. A vector
 * solved against another model version than the one serving is ignored.
 */
public final class UserVectors {
  static final long TTL_SEC = 30L * 86_400;

  /**
   * A user's vector and the items of their history it came from, strongest first (the candidates for "because of").
   *
   * @param version the model version it was solved against (null for a trained vector read from PostgreSQL)
   */
  public record Stored(String version, float[] vector, List<String> becauseOf) {}

  private final RedisAPI redis;

  public UserVectors(RedisAPI redis) {
    this.redis = redis;
  }

  static String key(String userId) {
    return "wxmp:{u:" + userId + "}:feed:vec";
  }

  public Future<Stored> get(String userId) {
    return Redis.bounded(redis.get(key(userId))).map(r -> r == null ? null : parse(r.toString()));
  }

  public Future<Void> put(String userId, Stored s) {
    String value = s.version() + "|" + String.join(",", s.becauseOf()) + "|"
        + Base64.getEncoder().encodeToString(Vectors.encode(s.vector()));
    return Redis.bounded(redis.set(List.of(key(userId), value, "EX", Long.toString(TTL_SEC)))).mapEmpty();
  }

  public Future<Void> forget(String userId) {
    return Redis.bounded(redis.del(List.of(key(userId)))).mapEmpty();
  }

  static Stored parse(String value) {
    String[] parts = value.split("\\|", -1);
    if (parts.length != 3) {
      return null;
    }
    try {
      List<String> because = parts[1].isEmpty() ? List.of() : Arrays.asList(parts[1].split(","));
      return new Stored(parts[0], Vectors.decode(Base64.getDecoder().decode(parts[2])), because);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}

package io.wxmp.server;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;
import java.util.Arrays;

/** Redis standalone, sentinel or cluster from {@code WXMP_REDIS_URL} (comma-separated for several nodes). */
final class RedisClients {
  private RedisClients() {}

  static Redis create(Vertx vertx, Settings settings) {
    String urls = settings.required("WXMP_REDIS_URL");
    String mode = settings.required("WXMP_REDIS_MODE");
    int poolSize = settings.integer("WXMP_REDIS_POOL_SIZE", 1, 1024);
    RedisOptions options = new RedisOptions().setMaxPoolSize(poolSize).setMaxPoolWaiting(poolSize * 64)
        .setMaxWaitingHandlers(4096);
    Arrays.stream(urls.split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(url -> {
      if (!url.startsWith("redis://") && !url.startsWith("rediss://")) {
        throw new Settings.ConfigException("WXMP_REDIS_URL: '" + url + "' must start with redis:// or rediss://");
      }
      options.addConnectionString(url);
    });
    switch (mode) {
      case "standalone" -> options.setType(RedisClientType.STANDALONE);
      case "cluster" -> options.setType(RedisClientType.CLUSTER);
      case "sentinel" -> options.setType(RedisClientType.SENTINEL).setRole(RedisRole.MASTER)
          .setMasterName(settings.required("WXMP_REDIS_MASTER_NAME"));
      default -> throw new Settings.ConfigException(
          "WXMP_REDIS_MODE: '" + mode + "' is not standalone, sentinel or cluster");
    }
    return Redis.createClient(vertx, options);
  }
}

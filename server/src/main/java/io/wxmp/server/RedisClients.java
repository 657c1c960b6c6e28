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
    return new BoundedRedis(Redis.createClient(vertx, options(settings)), io.wxmp.handlers.common.Redis.TIMEOUT_MS);
  }

  /** The client's options; every malformed or missing {@code WXMP_REDIS_*} setting is reported, not just the first. */
  static RedisOptions options(Settings settings) {
    Settings.Check check = new Settings.Check();
    String urls = check.get(() -> settings.required("WXMP_REDIS_URL"));
    String mode = check.get(() -> settings.required("WXMP_REDIS_MODE"));
    Integer poolSize = check.get(() -> settings.integer("WXMP_REDIS_POOL_SIZE", 1, 1024));
    RedisOptions options = new RedisOptions().setMaxWaitingHandlers(4096);
    // a Redis host that does not answer SYN fails in seconds, like every command (BoundedRedis)
    options.getNetClientOptions().setConnectTimeout((int) io.wxmp.handlers.common.Redis.TIMEOUT_MS);
    if (poolSize != null) {
      options.setMaxPoolSize(poolSize).setMaxPoolWaiting(poolSize * 64);
    }
    if (urls != null) {
      Arrays.stream(urls.split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(url -> check.run(() -> {
        if (!url.startsWith("redis://") && !url.startsWith("rediss://")) {
          throw new Settings.ConfigException("WXMP_REDIS_URL: '" + url + "' must start with redis:// or rediss://");
        }
        options.addConnectionString(url);
      }));
    }
    if (mode != null) {
      switch (mode) {
        case "standalone" -> options.setType(RedisClientType.STANDALONE);
        case "cluster" -> options.setType(RedisClientType.CLUSTER);
        case "sentinel" -> options.setType(RedisClientType.SENTINEL).setRole(RedisRole.MASTER)
            .setMasterName(check.get(() -> settings.required("WXMP_REDIS_MASTER_NAME")));
        default -> check.run(() -> {
          throw new Settings.ConfigException("WXMP_REDIS_MODE: '" + mode + "' is not standalone, sentinel or cluster");
        });
      }
    }
    check.done();
    return options;
  }
}

package io.wxmp.handlers.common;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A Lua script run by its SHA-1 ({@code EVALSHA}), so Redis parses it once: only when Redis answers NOSCRIPT (first
 * use, or after a restart or {@code SCRIPT FLUSH}) is the source sent again with {@code EVAL}, which caches it.
 * Multi-key rules that must be atomic (counters, locks, leaderboards) live in one such script.
 */
public final class RedisScript {
  private final String source;
  private final String sha;

  public RedisScript(String source) {
    this.source = source;
    try {
      this.sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
          .digest(source.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public Future<Response> run(RedisAPI redis, List<String> keys, List<String> args) {
    return redis.evalsha(command(sha, keys, args)).recover(failure -> failure.getMessage() != null
        && failure.getMessage().startsWith("NOSCRIPT")
        ? redis.eval(command(source, keys, args))
        : Future.failedFuture(failure));
  }

  private static List<String> command(String script, List<String> keys, List<String> args) {
    List<String> command = new ArrayList<>(2 + keys.size() + args.size());
    command.add(script);
    command.add(Integer.toString(keys.size()));
    command.addAll(keys);
    command.addAll(args);
    return command;
  }
}

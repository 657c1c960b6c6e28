package io.wxmp.bench.feed;

import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.wxmp.server.testkit.TestStack;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Opt-in ({@code -DredisStats=true}) Redis accounting of a bench phase: {@code INFO commandstats} before and after it
 * as calls and server microseconds per request, and (for another phase: it slows Redis down) {@code SLOWLOG} with a
 * threshold of 0 summed per script, named by the first key it was given (Redis 6.2 logs the commands a script calls
 * as well, each with its own time, which the script's time includes).
 */
public final class RedisStats {
  private RedisStats() {}

  static boolean on() {
    return Boolean.getBoolean("redisStats");
  }

  /** Per command: {calls, usec} so far. */
  static Map<String, long[]> commandstats(TestStack stack) {
    return commandstats(call(stack, api -> api.info(List.of("commandstats"))).toString());
  }

  /** Per command: {calls, usec}, from the text of {@code INFO commandstats}. */
  public static Map<String, long[]> commandstats(String info) {
    Map<String, long[]> out = new TreeMap<>();
    for (String line : info.split("\r?\n")) {
      if (!line.startsWith("cmdstat_")) {
        continue;
      }
      long calls = 0;
      long usec = 0;
      for (String kv : line.substring(line.indexOf(':') + 1).split(",")) {
        if (kv.startsWith("calls=")) {
          calls = Long.parseLong(kv.substring(6));
        } else if (kv.startsWith("usec=")) {
          usec = Long.parseLong(kv.substring(5));
        }
      }
      out.put(line.substring(8, line.indexOf(':')), new long[] {calls, usec});
    }
    return out;
  }

  static void print(String phase, Map<String, long[]> before, Map<String, long[]> after, long requests) {
    System.out.printf("%nRedis commandstats over %s, per request (%,d requests):%n", phase, requests);
    System.out.println("| command | calls/request | server µs/request | µs/call |");
    System.out.println("|---|---|---|---|");
    after.forEach((cmd, a) -> {
      long[] b = before.getOrDefault(cmd, new long[2]);
      long calls = a[0] - b[0];
      long usec = a[1] - b[1];
      if (calls > 0) {
        System.out.printf(Locale.ROOT, "| %s | %.3f | %.2f | %.2f |%n", cmd, (double) calls / requests,
            (double) usec / requests, (double) usec / calls);
      }
    });
  }

  static void slowlogStart(TestStack stack) {
    call(stack, api -> api.config(List.of("SET", "slowlog-max-len", "1000000")));
    call(stack, api -> api.config(List.of("SET", "slowlog-log-slower-than", "0")));
    call(stack, api -> api.slowlog(List.of("RESET")));
  }

  /** The slow log since {@link #slowlogStart} summed per command (and script: by its first key's shape). */
  static void slowlogPrint(TestStack stack, String phase, long requests) {
    call(stack, api -> api.config(List.of("SET", "slowlog-log-slower-than", "10000")));
    Response log = call(stack, api -> api.slowlog(List.of("GET", "1000000")));
    call(stack, api -> api.config(List.of("SET", "slowlog-max-len", "128")));
    Map<String, long[]> sums = new TreeMap<>();
    for (Response entry : log) {
      long usec = entry.get(2).toLong();
      Response argv = entry.get(3);
      String name = argv.get(0).toString().toLowerCase(Locale.ROOT);
      if ((name.equals("evalsha") || name.equals("eval")) && argv.size() > 3) {
        name += " " + argv.get(2) + " keys, " + argv.get(3).toString().replaceAll(":feed:[A-Za-z0-9_-]{16,}$", ":feed:ID")
            .replaceAll("[0-9]+", "N");
      }
      long[] s = sums.computeIfAbsent(name, k -> new long[2]);
      s[0]++;
      s[1] += usec;
    }
    System.out.printf("%nRedis slow log (threshold 0) over %s, per request (%,d requests, %,d entries):%n", phase,
        requests, log.size());
    System.out.println("| command / script (first key) | calls/request | server µs/request | µs/call |");
    System.out.println("|---|---|---|---|");
    List<Map.Entry<String, long[]>> rows = new ArrayList<>(sums.entrySet());
    rows.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
    for (Map.Entry<String, long[]> e : rows) {
      long[] s = e.getValue();
      System.out.printf(Locale.ROOT, "| %s | %.3f | %.2f | %.2f |%n", e.getKey(), (double) s[0] / requests,
          (double) s[1] / requests, (double) s[1] / s[0]);
    }
  }

  private static Response call(TestStack stack, Function<RedisAPI, io.vertx.core.Future<Response>> f) {
    Redis client = stack.redisClient();
    try {
      return f.apply(RedisAPI.api(client)).await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      client.close();
    }
  }
}

package io.wxmp.bench.feed;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.wxmp.handlers.feed.FeedTrainer;
import io.wxmp.handlers.feed.ModelStore;
import io.wxmp.server.testkit.NodeProcess;
import io.wxmp.server.testkit.TestStack;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * GET /feed through one process that ranks in-process (role both) against two API nodes and one ranking node on the
 * clustered event bus (Hazelcast on loopback), every node a separate JVM started from the build's classpath, on the same
 * planted data and model: saturation throughput (closed loop) and the latency of one request at a time (the event-bus
 * hop's cost). Run by {@code bench/cluster.sh}; prints markdown.
 */
public final class ClusterBench {
  private ClusterBench() {}

  record Result(double throughput, long count, double p50, double p99, long errors) {}

  public static void main(String[] args) throws Exception {
    io.wxmp.server.testkit.Http.uncheckedForBenchmarks();
    int items = Integer.getInteger("items", 20_000);
    int users = Integer.getInteger("users", 20_000);
    int sessions = Integer.getInteger("sessions", 500);
    int concurrency = Integer.getInteger("concurrency", 32);
    int seconds = Integer.getInteger("seconds", 15);
    System.out.printf("ClusterBench: %,d items, %,d users, %,d sessions, concurrency %d, %d s per run; %d CPUs, JDK %s%n",
        items, users, sessions, concurrency, seconds, Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.version"));
    TestStack stack = TestStack.create();
    List<NodeProcess> nodes = new ArrayList<>();
    int code = 0;
    try {
      FeedBench.plant(stack, items, users);
      FeedTrainer.Run run = stack.server().feed().trainer().start().await(60, TimeUnit.SECONDS);
      ModelStore.ModelRow model = run.finished().await(60, TimeUnit.MINUTES);
      System.out.printf("trained %s: %s users, %s items%n", model.version(), model.users(), model.items());
      List<String> tokens = FeedBench.login(stack, sessions, users);
      stack.stopServer(); // from here on only the separate processes serve
      HttpClient client = stack.clientVertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
          new PoolOptions().setHttp1MaxSize(concurrency * 4).setMaxWaitQueueSize(-1));
      Path logs = Path.of("target", "cluster-bench");

      NodeProcess single = start(stack, "single", "both", null, logs, nodes);
      single.awaitOk("/health/ready", 180_000);
      awaitPersonal(client, new int[] {single.httpPort}, tokens);
      Result[] one = measure(client, new int[] {single.httpPort}, tokens, concurrency, seconds);
      String fallbacksOne = fallbacks(single);
      single.close();
      nodes.remove(single);

      String[] cluster = {"wxmp-bench-" + UUID.randomUUID(), members()};
      NodeProcess ranking = start(stack, "ranking", "ranking", cluster, logs, nodes);
      NodeProcess api1 = start(stack, "api-1", "api", cluster, logs, nodes);
      NodeProcess api2 = start(stack, "api-2", "api", cluster, logs, nodes);
      ranking.awaitOk("/health/ready", 180_000);
      api1.awaitOk("/health/ready", 180_000);
      api2.awaitOk("/health/ready", 180_000);
      int[] apis = {api1.httpPort, api2.httpPort};
      awaitPersonal(client, apis, tokens);
      Result[] two = measure(client, apis, tokens, concurrency, seconds);

      System.out.println();
      System.out.println("| setup | load | req/s | p50 ms | p99 ms | errors |");
      System.out.println("|---|---|---:|---:|---:|---:|");
      row("1 process (role both, in-process ranking)", "saturation (" + concurrency + " in flight)", one[0]);
      row("2 API nodes + 1 ranking node (3 JVMs)", "saturation (" + concurrency + " in flight)", two[0]);
      row("1 process (role both, in-process ranking)", "1 in flight", one[1]);
      row("2 API nodes + 1 ranking node (3 JVMs)", "1 in flight", two[1]);
      System.out.printf(Locale.ROOT, "%nthroughput 2 API + 1 ranking / 1 process: %.2f%n",
          two[0].throughput() / one[0].throughput());
      System.out.printf(Locale.ROOT, "added by the event-bus hop at 1 in flight: p50 %+.2f ms, p99 %+.2f ms%n",
          two[1].p50() - one[1].p50(), two[1].p99() - one[1].p99());
      System.out.printf("ranking fallbacks: 1 process %s; api-1 %s, api-2 %s%n", fallbacksOne, fallbacks(api1),
          fallbacks(api2));
    } catch (Throwable e) {
      e.printStackTrace();
      code = 1;
    } finally {
      nodes.forEach(NodeProcess::close);
      stack.close();
    }
    System.exit(code);
  }

  private static int[] hazelcastPorts;

  private static String members() throws Exception {
    hazelcastPorts = new int[] {TestStack.freePort(), TestStack.freePort(), TestStack.freePort()};
    return String.join(",", Arrays.stream(hazelcastPorts).mapToObj(p -> "127.0.0.1:" + p).toList());
  }

  private static int nextPort;

  static NodeProcess start(TestStack stack, String name, String role, String[] cluster, Path logs,
      List<NodeProcess> nodes) throws Exception {
    Map<String, String> env = new HashMap<>(stack.settings);
    env.put("WXMP_MODE", "prod");
    env.put("WXMP_ROLE", role);
    if (cluster != null) {
      env.put("WXMP_CLUSTER", "hazelcast");
      env.put("WXMP_CLUSTER_NAME", cluster[0]);
      env.put("WXMP_CLUSTER_MEMBERS", cluster[1]);
      env.put("WXMP_CLUSTER_HOST", "127.0.0.1");
      env.put("WXMP_CLUSTER_PORT", Integer.toString(hazelcastPorts[nextPort++ % hazelcastPorts.length]));
    }
    env.put("WXMP_HTTP_PORT", Integer.toString(TestStack.freePort()));
    int managementPort = TestStack.freePort(); // /metrics is on the management port, one per node
    env.put("WXMP_MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("WXMP_HTTP_INSTANCES", "2");
    env.put("WXMP_FEED_TRAIN_INTERVAL_SEC", "0");
    env.put("WXMP_RANKING_BACKEND", "cpu");
    env.put("WXMP_FEED_RANKING_TIMEOUT_MS", "1000");
    NodeProcess node = NodeProcess.start(name, env, logs, "-Xms768m", "-Xmx768m");
    nodes.add(node);
    MANAGEMENT_PORTS.put(node, managementPort);
    return node;
  }

  /** Waits until each port answers a personal page (the node ranks with the model). */
  static void awaitPersonal(HttpClient client, int[] ports, List<String> tokens) throws Exception {
    for (int port : ports) {
      long deadline = System.currentTimeMillis() + 120_000;
      while (true) {
        String body = client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port)
                .setURI("/api/v1/feed?limit=20").putHeader("Authorization", "Bearer " + tokens.get(0)))
            .compose(req -> req.send().compose(resp -> resp.body())).await(30, TimeUnit.SECONDS).toString();
        if (body.contains("\"similar\"")) {
          break;
        }
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("no personal page from port " + port + ": " + body);
        }
        TimeUnit.MILLISECONDS.sleep(200);
      }
    }
  }

  /** Warm-up, then saturation and one-at-a-time runs. */
  static Result[] measure(HttpClient client, int[] ports, List<String> tokens, int concurrency, int seconds)
      throws Exception {
    closedLoop(client, ports, tokens, concurrency, 10);
    Result saturation = closedLoop(client, ports, tokens, concurrency, seconds);
    Result single = closedLoop(client, ports, tokens, 1, seconds);
    return new Result[] {saturation, single};
  }

  static void row(String setup, String load, Result r) {
    System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %.2f | %.2f | %d |%n", setup, load, r.throughput(), r.p50(),
        r.p99(), r.errors());
  }

  static final java.util.Map<NodeProcess, Integer> MANAGEMENT_PORTS = new java.util.concurrent.ConcurrentHashMap<>();

  static String fallbacks(NodeProcess node) {
    try {
      String text = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create("http://127.0.0.1:" + MANAGEMENT_PORTS.get(node) + "/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      return text.lines().filter(l -> l.startsWith("wxmp_feed_ranking_fallbacks_total"))
          .map(l -> l.substring(l.lastIndexOf(' ') + 1)).findFirst().orElse("-");
    } catch (Exception e) {
      return "- (" + e + ")";
    }
  }


  /** {@code inFlight} requests at all times, spread over the ports round-robin. */
  static Result closedLoop(HttpClient client, int[] ports, List<String> tokens, int inFlight, int seconds)
      throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long[] latencies = new long[2_000_000];
    AtomicInteger n = new AtomicInteger();
    AtomicLong errors = new AtomicLong();
    AtomicLong next = new AtomicLong();
    Promise<Void> done = Promise.promise();
    AtomicInteger running = new AtomicInteger(inFlight);
    long start = System.nanoTime();
    for (int c = 0; c < inFlight; c++) {
      loop(client, ports, tokens, end, latencies, n, errors, next, running, done);
    }
    done.future().await(seconds + 60L, TimeUnit.SECONDS);
    double elapsed = (System.nanoTime() - start) / 1e9;
    int count = Math.min(n.get(), latencies.length);
    long[] sorted = Arrays.copyOf(latencies, count);
    Arrays.sort(sorted);
    double p50 = count == 0 ? 0 : sorted[(int) Math.min(count - 1, count * 0.50)] / 1e6;
    double p99 = count == 0 ? 0 : sorted[(int) Math.min(count - 1, count * 0.99)] / 1e6;
    return new Result(count / elapsed, count, p50, p99, errors.get());
  }

  private static void loop(HttpClient client, int[] ports, List<String> tokens, long end, long[] latencies,
      AtomicInteger n, AtomicLong errors, AtomicLong next, AtomicInteger running, Promise<Void> done) {
    if (System.nanoTime() >= end) {
      if (running.decrementAndGet() == 0) {
        done.tryComplete();
      }
      return;
    }
    int port = ports[(int) (next.getAndIncrement() % ports.length)];
    String token = tokens.get(ThreadLocalRandom.current().nextInt(tokens.size()));
    long t0 = System.nanoTime();
    Future<Integer> status = client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
            .setPort(port).setURI("/api/v1/feed?limit=20").putHeader("Authorization", "Bearer " + token)
            .setTimeout(30_000))
        .compose(req -> req.send().compose(resp -> resp.body().map(b -> resp.statusCode())));
    status.onComplete(r -> {
      int i = n.getAndIncrement();
      if (i < latencies.length) {
        latencies[i] = System.nanoTime() - t0;
      }
      if (r.failed() || r.result() != 200) {
        errors.incrementAndGet();
      }
      loop(client, ports, tokens, end, latencies, n, errors, next, running, done);
    });
  }
}

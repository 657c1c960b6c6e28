package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.admin.Passwords;
import io.wxmp.server.testkit.Http;
import io.wxmp.server.testkit.NodeProcess;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three and then four separate processes on loopback around one PostgreSQL and Redis: two API nodes
 * ({@code WXMP_ROLE=api}) and a ranking node ({@code WXMP_ROLE=ranking}) on Vert.x's clustered event bus (Hazelcast,
 * TCP-IP join on 127.0.0.1). With feed traffic on both API nodes throughout, a second ranking node joins and shares the
 * queries, a new model version reaches both ranking nodes, and the first is killed (SIGKILL): every request is answered
 * 200, and pages are personal again within seconds.
 */
class ClusterTest {
  static final int CLUSTERS = 4;
  static final int PER_CLUSTER = 30;
  static TestStack stack;
  static final Map<Long, Integer> clusterOf = new HashMap<>();
  static final List<List<Long>> itemsOf = new ArrayList<>();
  static final List<String> users = new ArrayList<>();
  static String operator;
  static final List<NodeProcess> nodes = new ArrayList<>();

  @BeforeAll
  static void plant() throws Exception {
    stack = TestStack.create();
    long merchant = stack.sql("INSERT INTO merchants (name) VALUES ('Cluster shop') RETURNING id", Tuple.tuple())
        .iterator().next().getLong(0);
    for (int c = 0; c < CLUSTERS; c++) {
      List<Long> ids = new ArrayList<>();
      for (int k = 0; k < PER_CLUSTER; k++) {
        long id = stack.sql("""
            INSERT INTO items (merchant_id, kind, title, summary, tags, price_fen, status)
            VALUES ($1, 'article', $2, 'A planted item', $3, NULL, 'published') RETURNING id""",
            Tuple.of(merchant, "Item " + c + "-" + k, new String[] {"c" + c})).iterator().next().getLong(0);
        ids.add(id);
        clusterOf.put(id, c);
      }
      itemsOf.add(ids);
    }
    Random random = new Random(11);
    List<Tuple> events = new ArrayList<>();
    for (int u = 0; u < 200; u++) {
      long id;
      if (u < 8) {
        String token = stack.newUserToken();
        users.add(token);
        id = Long.parseLong(stack.api.get("/api/v1/me", token).json().getString("id"));
      } else {
        id = stack.sql("INSERT INTO users (openid) VALUES ($1) RETURNING id", Tuple.of("cluster-" + u))
            .iterator().next().getLong(0);
      }
      Set<Long> picked = new HashSet<>();
      while (picked.size() < 12) {
        picked.add(itemsOf.get(u % CLUSTERS).get(random.nextInt(PER_CLUSTER)));
      }
      for (long item : picked) {
        events.add(Tuple.of(id, item, "click"));
      }
    }
    stack.db.preparedQuery("INSERT INTO events (user_id, item_id, type, at) VALUES ($1, $2, $3, now())")
        .executeBatch(events).await(30, TimeUnit.SECONDS);
    String name = "clusterop" + System.nanoTime();
    stack.sql("INSERT INTO operators (username, password_hash) VALUES ($1, $2)",
        Tuple.of(name, Passwords.hash(TestStack.PASSWORD)));
    operator = stack.api.post("/api/v1/platform/login", null,
        new JsonObject().put("username", name).put("password", TestStack.PASSWORD)).json().getString("token");
    // From here on only the separate processes serve; the stack keeps PostgreSQL, Redis and the sandbox.
    stack.stopServer();
  }

  @AfterAll
  static void stop() {
    nodes.forEach(NodeProcess::close);
    stack.close();
  }

  /** One page request of the traffic: when it finished, its status (-1: no answer), and whether it was personal. */
  record Sample(long atMs, int node, int status, boolean personal) {}

  @Test
  void apiAndRankingNodesServeThroughAJoinAndAKill() throws Exception {
    int[] hz = {TestStack.freePort(), TestStack.freePort(), TestStack.freePort(), TestStack.freePort()};
    String members = String.join(",", java.util.Arrays.stream(hz).mapToObj(p -> "127.0.0.1:" + p).toList());
    String clusterName = "wxmp-test-" + UUID.randomUUID();
    Path logs = Path.of("target", "cluster-test", clusterName);

    NodeProcess api1 = start("api-1", "api", hz[0], members, clusterName, logs);
    NodeProcess api2 = start("api-2", "api", hz[1], members, clusterName, logs);
    api1.awaitOk("/health/live", 120_000);
    api2.awaitOk("/health/live", 120_000);
    // No ranking node yet: not ready, and pages come from trending (200, not 5xx).
    NodeProcess.Answer notReady = api1.get("/health/ready");
    assertThat(notReady.status()).as(notReady.body()).isEqualTo(503);
    assertThat(new JsonObject(notReady.body()).getJsonObject("checks").getString("ranking")).isEqualTo("down");
    Http[] apis = {http(api1), http(api2)};
    assertThat(apis[0].get("/api/v1/feed?limit=10", users.get(0)).status()).isEqualTo(200);

    NodeProcess ranking1 = start("ranking-1", "ranking", hz[2], members, clusterName, logs);
    ranking1.awaitOk("/health/ready", 120_000);
    api1.awaitOk("/health/ready", 30_000);
    api2.awaitOk("/health/ready", 30_000);

    String v1 = train(apis[0]);
    awaitModel(v1, List.of(ranking1), apis);

    List<Sample> samples = new ArrayList<>();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Future<Void>> loops = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      loops.add(traffic(i, apis, running, samples));
    }
    try {
      awaitPersonal(samples, System.currentTimeMillis(), 30_000, "pages personal on both API nodes with v1");

      // A second ranking node joins: it serves once it has loaded v1, and takes a share of the queries.
      NodeProcess ranking2 = start("ranking-2", "ranking", hz[3], members, clusterName, logs);
      ranking2.awaitOk("/health/ready", 120_000);
      assertThat(new JsonObject(ranking2.get("/health/ready").body()).getString("model")).isEqualTo(v1);
      double before1 = batches(ranking1);
      double before2 = batches(ranking2);
      TestStack.eventually("both ranking nodes answer queries", 30_000,
          () -> batches(ranking1) > before1 && batches(ranking2) > before2);

      // A new version reaches every ranking node, and both API nodes rank with it.
      String v2 = train(apis[1]);
      awaitModel(v2, List.of(ranking1, ranking2), apis);

      // The first ranking node dies without leaving the cluster.
      long killedAt = System.currentTimeMillis();
      ranking1.kill();
      long personalAgainMs = awaitPersonal(samples, killedAt, 30_000, "pages personal again after the kill")
          - killedAt;
      TestStack.eventually("a few more seconds of traffic", 10_000,
          () -> System.currentTimeMillis() - killedAt > personalAgainMs + 3_000);
      api1.awaitOk("/health/ready", 10_000);
      api2.awaitOk("/health/ready", 10_000);
      System.out.printf("ClusterTest: personal again %d ms after the kill; %d pages in all%n", personalAgainMs,
          samples.size());
      assertThat(personalAgainMs).isLessThan(20_000);
    } finally {
      running.set(false);
      Future.join(loops).await(60, TimeUnit.SECONDS);
    }
    List<Sample> all;
    synchronized (samples) {
      all = List.copyOf(samples);
    }
    assertThat(all).hasSizeGreaterThan(50);
    assertThat(all).allSatisfy(s -> assertThat(s.status()).as("page status at %d on api-%d", s.atMs(), s.node() + 1)
        .isEqualTo(200));
  }

  NodeProcess start(String name, String role, int hazelcastPort, String members, String clusterName, Path logs) {
    Map<String, String> env = new HashMap<>(stack.settings);
    env.put("WXMP_MODE", "prod");
    env.put("WXMP_ROLE", role);
    env.put("WXMP_CLUSTER", "hazelcast");
    env.put("WXMP_CLUSTER_NAME", clusterName);
    env.put("WXMP_CLUSTER_HOST", "127.0.0.1");
    env.put("WXMP_CLUSTER_JOIN", "tcp");
    env.put("WXMP_CLUSTER_MEMBERS", members);
    env.put("WXMP_CLUSTER_PORT", Integer.toString(hazelcastPort));
    env.put("WXMP_CLUSTER_FAILURE_SEC", "3");
    try {
      env.put("WXMP_HTTP_PORT", Integer.toString(TestStack.freePort()));
      env.put("WXMP_MANAGEMENT_PORT", "0"); // two API nodes on one host: each its own metrics port
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    env.put("WXMP_HTTP_INSTANCES", "1");
    env.put("WXMP_PG_POOL_SIZE", "4");
    env.put("WXMP_REDIS_POOL_SIZE", "4");
    env.put("WXMP_WECHAT_WORKERS", "2");
    env.put("WXMP_FEED_TRAIN_INTERVAL_SEC", "0");
    env.put("WXMP_FEED_TRAIN_THREADS", "1");
    env.put("WXMP_FEED_TRAIN_EPOCHS", "8");
    env.put("WXMP_RANKING_BACKEND", "cpu");
    // a loaded 2-core machine: a page waits this long for ranking before it is answered from trending
    env.put("WXMP_FEED_RANKING_TIMEOUT_MS", "1000");
    // every page asks the ranking nodes (the planted users' repeated new feeds would reuse their cached rankings)
    env.put("WXMP_FEED_CANDIDATE_CACHE_USERS", "0");
    NodeProcess node = NodeProcess.start(name, env, logs, "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    nodes.add(node);
    return node;
  }

  static Http http(NodeProcess node) {
    return new Http(WebClient.create(stack.clientVertx), node.httpPort);
  }

  static String train(Http api) {
    Reply r = api.post("/api/v1/platform/feed/train", operator, null);
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    return r.json().getString("modelVersion");
  }

  /** Waits until every ranking node has loaded the version and every API node ranks with it. */
  static void awaitModel(String version, List<NodeProcess> rankers, Http[] apis) {
    TestStack.eventually("model " + version + " on every node", 120_000, () -> {
      for (NodeProcess r : rankers) {
        NodeProcess.Answer a = r.get("/health/ready");
        if (a.status() != 200 || !version.equals(new JsonObject(a.body()).getString("model"))) {
          return false;
        }
      }
      for (Http api : apis) {
        JsonObject m = api.get("/api/v1/platform/feed/model", operator).json();
        if ("failed".equals(m.getString("status"))) {
          throw new AssertionError("training failed: " + m);
        }
        if (!version.equals(m.getString("serving"))) {
          return false;
        }
      }
      return true;
    });
  }

  /** The number of scoring batches a ranking node ran (from its /metrics). */
  static double batches(NodeProcess node) {
    NodeProcess.Answer a = node.get("/metrics");
    for (String line : a.body().split("\n")) {
      if (line.startsWith("wxmp_ranking_batch_size_count")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }

  /**
   * Waits until, among the pages finished after {@code since}, the last 5 of each API node were personal; answers
   * when the first of those finished.
   */
  static long awaitPersonal(List<Sample> samples, long since, long timeoutMs, String what) {
    long[] at = new long[1];
    TestStack.eventually(what, timeoutMs, () -> {
      long first = 0;
      for (int node = 0; node < 2; node++) {
        List<Sample> recent = new ArrayList<>();
        synchronized (samples) {
          for (Sample s : samples) {
            if (s.node() == node && s.atMs() > since) {
              recent.add(s);
            }
          }
        }
        if (recent.size() < 5) {
          return false;
        }
        List<Sample> last = recent.subList(recent.size() - 5, recent.size());
        if (!last.stream().allMatch(Sample::personal)) {
          return false;
        }
        first = Math.max(first, last.get(0).atMs());
      }
      at[0] = first;
      return true;
    });
    return at[0];
  }

  /** One client loop: new feeds of the planted users on one API node, one page at a time, until stopped. */
  static Future<Void> traffic(int loop, Http[] apis, AtomicBoolean running, List<Sample> samples) {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    next(loop, 0, apis, running, samples, done);
    return done.future();
  }

  private static void next(int loop, int n, Http[] apis, AtomicBoolean running, List<Sample> samples,
      io.vertx.core.Promise<Void> done) {
    if (!running.get()) {
      done.complete();
      return;
    }
    int node = loop % 2;
    String token = users.get((loop + 4 * n) % users.size());
    apis[node].sendAsync(HttpMethod.GET, "/api/v1/feed?limit=10", token, null, null).onComplete(r -> {
      int status = r.succeeded() ? r.result().status() : -1;
      boolean personal = false;
      if (status == 200) {
        for (Object o : r.result().json().getJsonArray("items")) {
          personal |= "similar".equals(((JsonObject) o).getJsonObject("reason").getString("kind"));
        }
      }
      synchronized (samples) {
        samples.add(new Sample(System.currentTimeMillis(), node, status, personal));
      }
      next(loop, n + 1, apis, running, samples, done);
    });
  }
}

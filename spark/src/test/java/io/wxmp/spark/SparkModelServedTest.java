package io.wxmp.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A version the Spark job writes is what a running server serves: the dev-mode server built by this reactor
 * ({@code server/target/wxmp-dev.jar}, its embedded PostgreSQL, Redis and sandbox) trains its demo model at start-up;
 * the job then trains on the same database, and the server takes the new version at its next refresh with no restart.
 * Every feed entry a new user gets is then ranked by it (the model version is in each entry's token), and a user's
 * clicks fold into it: the next page leans to what they clicked, with {@code similar} entries naming those items.
 */
class SparkModelServedTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static Process server;
  static Path dataDir;
  static String api;
  static String sandbox;
  static String operatorPassword;
  static int pgPort;

  @BeforeAll
  static void startDevServer() throws Exception {
    Path jar = Path.of("..", "server", "target", "wxmp-dev.jar").toAbsolutePath().normalize();
    assertThat(jar).as("the reactor builds the server before this module").exists();
    dataDir = Files.createTempDirectory("wxmp-spark-served-");
    int http = freePort();
    int sandboxPort = freePort();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx768m", "--add-modules", "jdk.incubator.vector", "-jar",
        jar.toString());
    pb.environment().keySet().removeIf(k -> k.startsWith("WXMP_"));
    pb.environment().putAll(Map.of(
        "WXMP_MODE", "dev",
        "WXMP_HTTP_HOST", "127.0.0.1",
        "WXMP_HTTP_PORT", Integer.toString(http),
        "WXMP_MANAGEMENT_PORT", "0",
        "WXMP_HTTP_INSTANCES", "1",
        "WXMP_SANDBOX_PORT", Integer.toString(sandboxPort),
        "WXMP_DEV_REDIS_PORT", Integer.toString(freePort()),
        "WXMP_DATA_DIR", dataDir.resolve("data").toString(),
        "WXMP_FEED_TRAIN_INTERVAL_SEC", "0", // no scheduled training: the Spark job takes no training lease
        "WXMP_FEED_REFRESH_MS", "500"));
    pb.environment().put("WXMP_RANKING_BACKEND", "cpu");
    Path log = dataDir.resolve("server.log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    server = pb.start();
    eventually("the dev server prints its banner (log: " + log + ")", 240_000,
        () -> read(log).contains("wxmp is running") || !server.isAlive());
    assertThat(server.isAlive()).as(read(log)).isTrue();
    Matcher m = Pattern.compile("Operator\\s+demo-operator\\s+password: (\\S+)").matcher(read(log));
    assertThat(m.find()).as(read(log)).isTrue();
    operatorPassword = m.group(1);
    api = "http://127.0.0.1:" + http + "/api/v1";
    sandbox = "http://127.0.0.1:" + sandboxPort;
    // the embedded PostgreSQL's port is the fourth line of its postmaster.pid
    pgPort = Integer.parseInt(Files.readAllLines(dataDir.resolve("data").resolve("pg").resolve("postmaster.pid"))
        .get(3).strip());
  }

  @AfterAll
  static void stopDevServer() throws Exception {
    if (server != null) {
      server.destroy(); // SIGTERM: the server drains, then stops its embedded databases
      if (!server.waitFor(60, TimeUnit.SECONDS)) {
        server.destroyForcibly().waitFor();
      }
    }
  }

  @Test
  void aSparkVersionIsServedAndAUsersClicksFoldIntoIt() throws Exception {
    String operator = post("/platform/login", null, JSON.createObjectNode().put("username", "demo-operator")
        .put("password", operatorPassword)).path("token").asText();
    eventually("the demo model serves", 120_000, () -> "serving".equals(
        unchecked(() -> get("/platform/feed/model", operator)).path("status").asText()));
    JsonNode before = get("/platform/feed/model", operator);

    AlsTraining.Result r;
    try (SparkSession spark = SparkSession.builder().master("local[2]").appName("wxmp-served-test")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate()) {
      r = AlsTraining.run(spark, new AlsTraining.Params("jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres",
          "postgres", "postgres", 64, 12, 0.05, 10, 7, AlsTraining.DEFAULT_WEIGHTS));
    }
    assertThat(r.version()).isNotEqualTo(before.path("version").asText());
    JsonNode model = get("/platform/feed/model", operator);
    assertThat(model.path("version").asText()).as(model.toString()).isEqualTo(r.version());
    assertThat(model.path("status").asText()).isEqualTo("serving");
    assertThat(model.path("users").asInt()).isEqualTo(r.users());
    assertThat(model.path("items").asInt()).isEqualTo(r.items());

    // a new user: once the server has refreshed, every entry of their feed was ranked by the Spark version
    String user = login();
    eventually("the server serves " + r.version(), 30_000, () -> {
      JsonNode latest = unchecked(() -> get("/feed?limit=20", user));
      return latest.path("items").size() > 0 && versions(latest).equals(List.of(r.version()));
    });
    JsonNode first = get("/feed?limit=20", user);
    assertThat(versions(first)).containsExactly(r.version());
    assertThat(reasons(first)).doesNotContain("similar"); // no history yet

    // three clicks with long reads on items of one topic of the demo catalogue
    List<JsonNode> backend = new ArrayList<>();
    JsonNode page = first;
    while (backend.size() < 3 && page.path("items").size() > 0) {
      for (JsonNode e : page.path("items")) {
        if (tags(e).contains("backend") && backend.size() < 3) {
          backend.add(e);
        }
      }
      if (page.path("nextCursor").isNull() || page.path("nextCursor").isMissingNode()) {
        break;
      }
      page = get("/feed?limit=20&cursor=" + java.net.URLEncoder.encode(page.path("nextCursor").asText(),
          StandardCharsets.UTF_8), user);
    }
    assertThat(backend).as(first.toString()).hasSize(3);
    ArrayNode events = JSON.createArrayNode();
    for (JsonNode e : backend) {
      events.add(JSON.createObjectNode().put("id", UUID.randomUUID().toString()).put("itemId", e.path("id").asText())
          .put("type", "click").put("token", e.path("token").asText()));
      events.add(JSON.createObjectNode().put("id", UUID.randomUUID().toString()).put("itemId", e.path("id").asText())
          .put("type", "dwell").put("dwellMs", 90_000).put("token", e.path("token").asText()));
    }
    JsonNode accepted = post("/events", user, JSON.createObjectNode().set("events", events));
    assertThat(accepted.path("accepted").asInt()).as(accepted.toString()).isEqualTo(6);

    List<String> clicked = backend.stream().map(e -> e.path("id").asText()).toList();
    eventually("the next page has similar entries because of the clicked items", 15_000, () -> {
      JsonNode latest = unchecked(() -> get("/feed?limit=20", user));
      return similarBecauseOf(latest, clicked) >= 2;
    });
    JsonNode next = get("/feed?limit=20", user);
    assertThat(versions(next)).containsExactly(r.version());
    assertThat(similarBecauseOf(next, clicked)).as(next.toString()).isGreaterThanOrEqualTo(2);
    // the clicked topic leads the top of the page: among the first 10 entries, more backend items than any other topic
    Map<String, Integer> topics = new HashMap<>();
    for (int i = 0; i < Math.min(10, next.path("items").size()); i++) {
      for (String t : List.of("backend", "tea", "finance", "fitness")) {
        if (tags(next.path("items").get(i)).contains(t)) {
          topics.merge(t, 1, Integer::sum);
        }
      }
    }
    int lead = topics.getOrDefault("backend", 0);
    assertThat(topics).as(next.toString()).allSatisfy((t, n) -> {
      if (!t.equals("backend")) {
        assertThat(n).isLessThan(lead);
      }
    });
  }

  /** The model version in each entry's token (its payload is a JSON array; the version is its tenth element). */
  static List<String> versions(JsonNode page) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : page.path("items")) {
      String token = e.path("token").asText();
      byte[] payload = Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.')));
      String version = unchecked(() -> JSON.readTree(payload)).get(9).asText();
      if (!out.contains(version)) {
        out.add(version);
      }
    }
    return out;
  }

  static List<String> reasons(JsonNode page) {
    List<String> out = new ArrayList<>();
    page.path("items").forEach(e -> out.add(e.path("reason").path("kind").asText()));
    return out;
  }

  static int similarBecauseOf(JsonNode page, List<String> clicked) {
    int n = 0;
    for (JsonNode e : page.path("items")) {
      if (e.path("reason").path("kind").asText().equals("similar")
          && clicked.contains(e.path("reason").path("becauseOf").path("itemId").asText())) {
        n++;
      }
    }
    return n;
  }

  static List<String> tags(JsonNode entry) {
    List<String> out = new ArrayList<>();
    entry.path("tags").forEach(t -> out.add(t.asText()));
    return out;
  }

  static String login() throws Exception {
    JsonNode wx = send(HttpRequest.newBuilder(URI.create(sandbox + "/sandbox/users"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")), 201);
    return post("/auth/login", null, JSON.createObjectNode().put("code", wx.path("code").asText())).path("token")
        .asText();
  }

  static JsonNode get(String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).GET();
    return send(token == null ? b : b.header("Authorization", "Bearer " + token), 200);
  }

  static JsonNode post(String path, String token, ObjectNode body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    return send(token == null ? b : b.header("Authorization", "Bearer " + token), -1);
  }

  /** The body as JSON; a status other than {@code expected} (or than 2xx when it is -1) fails the test. */
  static JsonNode send(HttpRequest.Builder request, int expected) throws Exception {
    HttpResponse<String> res = HTTP.send(request.timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    if (expected == -1) {
      assertThat(res.statusCode()).as(res.body()).isBetween(200, 299);
    } else {
      assertThat(res.statusCode()).as(res.body()).isIn(expected, 200);
    }
    return JSON.readTree(res.body());
  }

  interface Call<T> {
    T call() throws Exception;
  }

  static <T> T unchecked(Call<T> call) {
    try {
      return call.call();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "";
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static void eventually(String what, long timeoutMs, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(200);
    }
  }
}

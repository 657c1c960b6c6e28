package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.WebClient;
import io.wxmp.server.testkit.Contract;
import io.wxmp.server.testkit.Http;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics}: on the management port only (loopback by default), small whatever the traffic, route labels that
 * are route templates, and the JVM and process meters.
 */
class MetricsTest {
  static TestStack stack;
  static WebClient raw;

  @BeforeAll
  static void start() {
    stack = TestStack.shared();
    raw = WebClient.create(stack.clientVertx);
  }

  @AfterAll
  static void stop() {
    raw.close();
  }

  @Test
  void metricsAreNotOnThePublicPort() {
    Reply pub = stack.api.get("/metrics", null);
    assertThat(pub.status()).isEqualTo(404);
    assertThat(pub.errorCode()).isEqualTo("not_found");

    Reply scrape = stack.management().get("/metrics", null);
    assertThat(scrape.status()).isEqualTo(200);
    assertThat(scrape.headers().get("Content-Type")).startsWith("text/plain");
    assertThat(stack.management().get("/health/live", null).status()).isEqualTo(200);
    assertThat(stack.management().get("/api/v1/me", null).status()).isEqualTo(404); // the API is not there
  }

  @Test
  void managementPortListensOnLoopbackByDefault() throws Exception {
    // the test stack leaves WXMP_MANAGEMENT_HOST at its default
    assertThat(stack.settings).doesNotContainKey("WXMP_MANAGEMENT_HOST");
    int port = stack.server().managementPort();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 2_000); // reachable here
    }
    InetAddress external = null;
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (nic.isUp() && !nic.isLoopback()) {
        for (InetAddress a : Collections.list(nic.getInetAddresses())) {
          if (a instanceof Inet4Address) {
            external = a;
          }
        }
      }
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(external != null, "this machine has no non-loopback IPv4 address");
    InetAddress address = external;
    try (Socket s = new Socket()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.connect(new InetSocketAddress(address, port), 2_000))
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void jvmAndProcessMeters() {
    String text = stack.management().get("/metrics", null).raw().toString();
    for (String meter : List.of("jvm_memory_used_bytes{", "jvm_memory_max_bytes{", "jvm_gc_memory_allocated_bytes_total",
        "jvm_threads_live_threads", "jvm_threads_states_threads{", "jvm_classes_loaded_classes", "process_cpu_usage",
        "system_cpu_count", "process_uptime_seconds", "process_start_time_seconds", "process_files_open_files")) {
      assertThat(text).as(meter).contains("\n" + meter);
    }
  }

  /**
   * Every documented operation, called with a user token, a merchant token and none (so most routes answer two or
   * three status codes), plus requests to paths no route has: the scrape stays under 200 KB, the route labels are
   * route templates (never a request's own path, never the {@code >}-joined chain of sub-routers), and the response
   * time has the few fixed buckets.
   */
  @Test
  void scrapeStaysSmallWithEveryRouteCalled() throws Exception {
    String user = stack.newUserToken();
    String owner = stack.newMerchant().owner();
    List<String[]> operations = operations();
    assertThat(operations).hasSizeGreaterThan(40);
    List<Future<?>> calls = new ArrayList<>();
    List<String[]> revoking = new ArrayList<>(); // called last: they end the tokens' sessions
    for (String[] op : operations) {
      if (op[1].endsWith("/logout") || op[1].endsWith("/admin/password") || op[1].endsWith("/admin/accounts/{id}")
          || op[0].equals("delete") && op[1].endsWith("/me")) {
        revoking.add(op);
        continue;
      }
      for (String token : new String[] {user, owner, null}) {
        calls.add(call(op, token));
      }
    }
    for (int i = 0; i < 20; i++) {
      calls.add(call(HttpMethod.GET, "/api/v1/nope-" + UUID.randomUUID(), user));
      calls.add(call(HttpMethod.GET, "/nope-" + UUID.randomUUID(), null));
    }
    for (int i = 0; i < 50; i++) {
      calls.add(call(HttpMethod.GET, "/api/v1/me", user));
    }
    Future.join(calls).await(60, TimeUnit.SECONDS);
    calls.clear();
    for (String[] op : revoking) {
      for (String token : new String[] {user, owner, null}) {
        calls.add(call(op, token));
      }
    }
    Future.join(calls).await(60, TimeUnit.SECONDS);

    Reply scrape = stack.management().get("/metrics", null);
    String text = scrape.raw().toString();
    System.out.printf("MetricsTest: %d operations called, scrape %d bytes%n", operations.size(), scrape.raw().length());
    assertThat(scrape.raw().length()).as("scrape size in bytes").isLessThan(200_000);

    Set<String> routes = new TreeSet<>();
    Matcher m = Pattern.compile("route=\"([^\"]*)\"").matcher(text);
    while (m.find()) {
      routes.add(m.group(1));
    }
    assertThat(routes).contains("/api/v1/me", "/api/v1/quizzes/:id", "/api/v1/admin/items/:id", "/api/v1/*",
        "/health/live");
    assertThat(routes).noneMatch(r -> r.contains(">") || r.contains("nope") || r.matches(".*/\\d+.*"));
    assertThat(routes.size()).isLessThan(operations.size() + 20);

    // the response-time histogram: the fixed buckets and +Inf per method and route, nothing else
    Matcher me = Pattern.compile(
        "vertx_http_server_response_time_seconds_bucket\\{method=\"GET\",[^}]*route=\"/api/v1/me\"[^}]*}").matcher(text);
    List<String> buckets = new ArrayList<>();
    while (me.find()) {
      buckets.add(me.group());
    }
    assertThat(buckets).hasSize(8).noneMatch(b -> b.contains("code="));
    assertThat(text).doesNotContain("quantile=");
    assertThat(text).doesNotContain("vertx_http_server_response_bytes_bucket");
  }

  private static Future<?> call(String[] op, String token) {
    String path = op[1].replaceAll("\\{attemptId}", "7").replaceAll("\\{[A-Za-z]+}",
        Long.toString(1_000_000 + (long) (Math.random() * 1e6)));
    return call(HttpMethod.valueOf(op[0].toUpperCase()), path, token);
  }

  /** Through the testkit's client, so that these answers are held to openapi.yaml like every other. */
  private static Future<?> call(HttpMethod method, String path, String token) {
    Buffer body = method == HttpMethod.GET || method == HttpMethod.DELETE ? null : Buffer.buffer("{}");
    return new Http(raw, stack.apiPort()).sendAsync(method, path, token, body, null).otherwiseEmpty();
  }

  /** (method, absolute path template) of every operation in openapi.yaml. */
  private static List<String[]> operations() {
    List<String[]> ops = new ArrayList<>();
    for (Contract.Operation op : Contract.get().operations()) {
      ops.add(new String[] {op.method().name().toLowerCase(), op.template()});
    }
    return ops;
  }
}

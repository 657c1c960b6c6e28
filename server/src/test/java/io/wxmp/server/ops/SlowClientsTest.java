package io.wxmp.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.wxmp.server.Settings;
import io.wxmp.server.WxmpServer;
import io.wxmp.server.testkit.Http;
import io.wxmp.server.testkit.Reply;
import io.wxmp.server.testkit.TestStack;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Slow and greedy clients (issue 9): a head or a body that trickles in is cut at its deadline while everyone else is
 * answered, and connections over the cap are refused while the open ones keep working. Two servers of their own on
 * the shared stack's databases: one with 1 s deadlines, one with a cap of 8 connections.
 */
class SlowClientsTest {
  private static final int DEADLINE_MS = 1000;
  private static final int CAP = 8;
  static TestStack stack;
  static WxmpServer deadlines;
  static int deadlinesPort;
  static WxmpServer capped;
  static int cappedPort;

  @BeforeAll
  static void start() throws Exception {
    stack = TestStack.shared();
    deadlinesPort = TestStack.freePort();
    deadlines = serve(deadlinesPort, Map.of("WXMP_HTTP_HEADER_TIMEOUT_MS", Integer.toString(DEADLINE_MS),
        "WXMP_HTTP_BODY_TIMEOUT_MS", Integer.toString(DEADLINE_MS)));
    cappedPort = TestStack.freePort();
    capped = serve(cappedPort, Map.of("WXMP_HTTP_MAX_CONNECTIONS", Integer.toString(CAP)));
  }

  private static WxmpServer serve(int port, Map<String, String> extra) throws Exception {
    Map<String, String> settings = new HashMap<>(stack.settings);
    settings.put("WXMP_HTTP_PORT", Integer.toString(port));
    settings.put("WXMP_PUBLIC_URL", "http://127.0.0.1:" + port);
    settings.putAll(extra);
    return WxmpServer.start(Settings.of(settings)).await(60, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    for (WxmpServer server : new WxmpServer[] {deadlines, capped}) {
      if (server != null) {
        server.close().await(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void tricklingHeadsAreClosedAtTheDeadlineWhileOthersAreAnswered() throws Exception {
    int n = 500;
    NetClient client = stack.clientVertx.createNetClient();
    List<NetSocket> sockets = new ArrayList<>();
    ConcurrentLinkedQueue<Long> lifetimes = new ConcurrentLinkedQueue<>();
    AtomicInteger answered = new AtomicInteger();
    List<Future<NetSocket>> connecting = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long opened = System.nanoTime(); // before the server can have seen the connection
      connecting.add(client.connect(deadlinesPort, "127.0.0.1").map(socket -> {
        socket.handler(data -> answered.incrementAndGet());
        socket.closeHandler(v -> lifetimes.add((System.nanoTime() - opened) / 1_000_000));
        socket.write("GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
        return socket;
      }));
    }
    for (Future<NetSocket> f : connecting) {
      sockets.add(f.await(30, TimeUnit.SECONDS));
    }
    // a header byte every 100 ms each: Vert.x's idle timeout alone never fires
    long trickle = stack.clientVertx.setPeriodic(100, t -> sockets.forEach(s -> s.write("a")));
    try {
      Reply live = new Http(io.vertx.ext.web.client.WebClient.create(stack.clientVertx), deadlinesPort)
          .get("/health/live", null);
      assertThat(live.status()).as("a normal request while %d clients trickle", n).isEqualTo(200);
      TestStack.eventually("every trickling connection closed by the server", 15_000, () -> lifetimes.size() == n);
    } finally {
      stack.clientVertx.cancelTimer(trickle);
      sockets.forEach(NetSocket::close);
      client.close();
    }
    assertThat(answered.get()).as("no trickler got an answer (its head never ended)").isZero();
    assertThat(lifetimes).allSatisfy(ms -> assertThat(ms).as("closed at the deadline, not before")
        .isGreaterThanOrEqualTo(DEADLINE_MS - 100L));
  }

  @Test
  void aSilentConnectionIsClosedAtTheDeadline() throws Exception {
    try (Socket socket = new Socket()) {
      long opened = System.nanoTime();
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", deadlinesPort));
      socket.setSoTimeout(10_000);
      assertThat(socket.getInputStream().read()).as("closed, nothing sent").isEqualTo(-1);
      assertThat((System.nanoTime() - opened) / 1_000_000).isGreaterThanOrEqualTo(DEADLINE_MS - 100L);
    }
  }

  @Test
  void aKeptAliveConnectionMayWaitLongerThanTheHeadDeadlineForItsNextRequest() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", deadlinesPort)) {
      socket.setSoTimeout(10_000);
      String get = "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
      socket.getOutputStream().write(get.getBytes(StandardCharsets.US_ASCII));
      assertThat(readResponse(socket.getInputStream())).startsWith("HTTP/1.1 200");
      // the head deadline starts with the next request's first byte, not with the previous answer
      TimeUnit.MILLISECONDS.sleep(DEADLINE_MS * 2L);
      socket.getOutputStream().write(get.getBytes(StandardCharsets.US_ASCII));
      assertThat(readResponse(socket.getInputStream())).startsWith("HTTP/1.1 200");
    }
  }

  @Test
  void aBodyThatTricklesPastItsDeadlineGets408AndChangesNothing() throws Exception {
    String token = stack.newUserToken();
    String before = stack.api.get("/api/v1/me", token).json().getString("nickname");
    String nickname = "slow-" + UUID.randomUUID().toString().substring(0, 8);
    byte[] body = new JsonObject().put("nickname", nickname).encode().getBytes(StandardCharsets.UTF_8);
    String response;
    long sent;
    try (Socket socket = new Socket("127.0.0.1", deadlinesPort)) {
      socket.setSoTimeout(10_000);
      sent = System.nanoTime(); // before the server can have read the head
      socket.getOutputStream().write(("PATCH /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
          + "\r\nAccept-Language: en\r\nContent-Type: application/json\r\nContent-Length: " + body.length
          + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().write(body, 0, body.length - 1); // all but the closing brace
      socket.getOutputStream().flush();
      response = readAll(socket.getInputStream()); // until the server closes the connection
    }
    assertThat((System.nanoTime() - sent) / 1_000_000).isGreaterThanOrEqualTo(DEADLINE_MS - 100L);
    assertThat(response).startsWith("HTTP/1.1 408");
    assertThat(response).containsIgnoringCase("content-type: application/json");
    JsonObject error = new JsonObject(response.substring(response.indexOf("\r\n\r\n") + 4));
    assertThat(error.getJsonObject("error").getString("code")).isEqualTo("request_timeout");
    assertThat(error.getJsonObject("error").getString("message")).contains("body");
    assertThat(stack.api.get("/api/v1/me", token).json().getString("nickname")).isEqualTo(before);
  }

  @Test
  void connectionsOverTheCapAreRefusedWhileTheOpenOnesWork() throws Exception {
    String get = "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    List<Socket> open = new ArrayList<>();
    try {
      for (int i = 0; i < CAP; i++) {
        Socket socket = new Socket("127.0.0.1", cappedPort);
        socket.setSoTimeout(10_000);
        open.add(socket);
        socket.getOutputStream().write(get.getBytes(StandardCharsets.US_ASCII));
        assertThat(readResponse(socket.getInputStream())).as("connection %d of %d", i + 1, CAP)
            .startsWith("HTTP/1.1 200");
      }
      for (int i = 0; i < 3; i++) {
        assertThat(tryGet(get)).as("a connection over the cap").isNull();
      }
      for (Socket socket : open) {
        socket.getOutputStream().write(get.getBytes(StandardCharsets.US_ASCII));
        assertThat(readResponse(socket.getInputStream())).as("an open connection still works")
            .startsWith("HTTP/1.1 200");
      }
      open.remove(0).close();
      TestStack.eventually("a connection admitted once one closed", 10_000, () -> {
        String answer = tryGet(get);
        return answer != null && answer.startsWith("HTTP/1.1 200");
      });
    } finally {
      for (Socket socket : open) {
        socket.close();
      }
    }
  }

  /** One request on a new connection: the answer's head, or null when the server closed the connection unanswered. */
  private static String tryGet(String request) {
    try (Socket socket = new Socket("127.0.0.1", cappedPort)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      return readResponse(socket.getInputStream());
    } catch (SocketTimeoutException e) {
      throw new AssertionError("neither answered nor closed", e);
    } catch (SocketException e) {
      return null; // reset: refused
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** One response (head and a Content-Length body), or null at end of stream before any byte. */
  private static String readResponse(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        return head.size() == 0 ? null : head.toString(StandardCharsets.ISO_8859_1);
      }
      head.write(b);
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    int length = 0;
    for (String line : text.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    byte[] body = in.readNBytes(length);
    return text + new String(body, StandardCharsets.UTF_8);
  }

  private static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      in.transferTo(out);
    } catch (SocketException reset) {
      // closed after the answer: what was read is the answer
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}

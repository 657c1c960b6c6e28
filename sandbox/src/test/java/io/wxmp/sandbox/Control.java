package io.wxmp.sandbox;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Blocking test client for the sandbox's control API (and raw WeChat calls), on the JDK's HTTP client. */
final class Control {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  final String base;

  Control(int port) {
    this.base = "http://127.0.0.1:" + port;
  }

  record Answer(int status, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }

    JsonArray array() {
      return new JsonArray(body);
    }
  }

  Answer get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET(), Duration.ofSeconds(10));
  }

  Answer post(String path, JsonObject body) {
    return post(path, body, Duration.ofSeconds(10));
  }

  Answer post(String path, JsonObject body, Duration timeout) {
    HttpRequest.BodyPublisher publisher = body == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.encode());
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
        .POST(publisher), timeout);
  }

  static Answer send(HttpRequest.Builder request, Duration timeout) {
    try {
      HttpResponse<String> response = HTTP.send(request.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** {@code POST /sandbox/users}: a WeChat user with fresh codes. */
  JsonObject newUser(JsonObject body) {
    Answer answer = post("/sandbox/users", body);
    if (answer.status() != 201) {
      throw new IllegalStateException("POST /sandbox/users: " + answer);
    }
    return answer.json();
  }

  JsonObject stats() {
    return get("/sandbox/stats").json();
  }

  /** Polls until the value satisfies the condition or the deadline passes; the last value either way. */
  static <T> T eventually(Supplier<T> read, Predicate<T> done, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    T value = read.get();
    while (!done.test(value) && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000); // poll interval, not a synchronisation
      value = read.get();
    }
    return value;
  }
}

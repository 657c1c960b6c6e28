package io.wxmp.server.testkit;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.net.URI;
import java.util.concurrent.TimeUnit;

/**
 * A small blocking HTTP client over Vert.x's WebClient, for tests that read top to bottom. Every request goes through
 * {@link #sendAsync}, and every answer from wxmp is validated there against openapi.yaml ({@link Contract}): an answer
 * the document does not allow fails the request (and the test, see {@link ContractViolations}).
 */
public final class Http {
  private final WebClient client;
  private final int port;
  private final boolean checked;
  private final Contract.Port surface;

  /** A client of a wxmp server's public port: its answers are held to openapi.yaml. */
  public Http(WebClient client, int port) {
    this(client, port, true, Contract.Port.PUBLIC);
  }

  /** Off in benchmarks: the client-side validation would share the server's cores and inflate its latencies. */
  private static volatile boolean benchmarking;

  /**
   * A benchmark's {@code main} calls this first: from then on no client of this JVM validates answers (the tests
   * do, so the benchmarks' answers are the same ones the suite holds to openapi.yaml).
   */
  public static void uncheckedForBenchmarks() {
    benchmarking = true;
  }

  private Http(WebClient client, int port, boolean checked, Contract.Port surface) {
    this.client = client;
    this.port = port;
    this.checked = checked && !benchmarking;
    this.surface = surface;
    if (this.checked) {
      Contract.get(); // loaded here, where the test's thread may wait, not on the event loop of the first answer
    }
  }

  /**
   * A client of the WeChat sandbox's control port: another service, whose API is API.md's sandbox section and not
   * openapi.yaml, so its answers are not validated.
   */
  public static Http sandbox(WebClient client, int port) {
    return new Http(client, port, false, Contract.Port.PUBLIC);
  }

  /**
   * A client of a router a test builds itself (not wxmp's: no openapi.yaml to hold it to), e.g. RequestIdLoggingTest's
   * blocking route. With {@link #sandbox} the only unchecked clients.
   */
  public static Http testOwnRouter(WebClient client, int port) {
    return new Http(client, port, false, Contract.Port.PUBLIC);
  }

  /** A client of a wxmp server's management port: held to the operations openapi.yaml tags management. */
  public static Http management(WebClient client, int port) {
    return new Http(client, port, true, Contract.Port.MANAGEMENT);
  }

  public Reply get(String path, String token) {
    return send(HttpMethod.GET, path, token, null, null);
  }

  public Reply post(String path, String token, JsonObject body) {
    return send(HttpMethod.POST, path, token, body == null ? null : body.toBuffer(), null);
  }

  public Reply patch(String path, String token, JsonObject body) {
    return send(HttpMethod.PATCH, path, token, body.toBuffer(), null);
  }

  public Reply delete(String path, String token) {
    return send(HttpMethod.DELETE, path, token, null, null);
  }

  public Reply postRaw(String path, String token, Buffer body, MultiMap headers) {
    return send(HttpMethod.POST, path, token, body, headers);
  }

  /** Asynchronous form, for firing many requests at once. */
  public Future<Reply> sendAsync(HttpMethod method, String path, String token, Buffer body, MultiMap headers) {
    HttpRequest<Buffer> request = client.request(method, port, "127.0.0.1", path).timeout(30_000);
    if (token != null) {
      request.putHeader("Authorization", "Bearer " + token);
    }
    if (headers != null) {
      request.putHeaders(headers);
    }
    Future<HttpResponse<Buffer>> response;
    if (body != null) {
      if (headers == null || headers.get("Content-Type") == null) {
        request.putHeader("Content-Type", "application/json");
      }
      response = request.sendBuffer(body);
    } else {
      response = request.send();
    }
    return response.compose(r -> {
      Reply reply = new Reply(r.statusCode(), r.headers(), r.body());
      if (checked) {
        // WebClient follows redirects: the answer is the last location's
        String answered = r.followedRedirects().isEmpty() ? path
            : URI.create(r.followedRedirects().get(r.followedRedirects().size() - 1)).getRawPath();
        String override = headers == null ? null : headers.get("X-HTTP-Method-Override");
        HttpMethod asked = method == HttpMethod.POST && override != null ? HttpMethod.valueOf(override) : method;
        String problem = Contract.get().check(surface, asked, answered, reply.status(), reply.headers(), reply.raw());
        if (problem != null) {
          return Future.failedFuture(ContractViolations.record(problem));
        }
      }
      return Future.succeededFuture(reply);
    });
  }

  public Reply send(HttpMethod method, String path, String token, Buffer body, MultiMap headers) {
    try {
      return sendAsync(method, path, token, body, headers).await(40, TimeUnit.SECONDS);
    } catch (ContractViolations.Violation e) {
      throw ContractViolations.reported(e);
    } catch (Exception e) {
      throw new AssertionError(method + " " + path + " failed: " + e, e);
    }
  }
}

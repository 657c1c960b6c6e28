package io.wxmp.server.testkit;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.concurrent.TimeUnit;

/** A small blocking HTTP client over Vert.x's WebClient, for tests that read top to bottom. */
public final class Http {
  private final WebClient client;
  private final int port;

  public Http(WebClient client, int port) {
    this.client = client;
    this.port = port;
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
    return response.map(r -> new Reply(r.statusCode(), r.headers(), r.body()));
  }

  public Reply send(HttpMethod method, String path, String token, Buffer body, MultiMap headers) {
    try {
      return sendAsync(method, path, token, body, headers).await(40, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(method + " " + path + " failed: " + e, e);
    }
  }
}

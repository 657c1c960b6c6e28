package io.wxmp.server.testkit;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** What a client saw: status, headers and body. */
public record Reply(int status, MultiMap headers, Buffer raw) {
  public JsonObject json() {
    return raw == null || raw.length() == 0 ? null : raw.toJsonObject();
  }

  public JsonArray jsonArray() {
    return raw.toJsonArray();
  }

  /** The API.md error code, or null. */
  public String errorCode() {
    JsonObject body = json();
    return body == null || body.getJsonObject("error") == null ? null : body.getJsonObject("error").getString("code");
  }

  @Override
  public String toString() {
    return status + " " + (raw == null ? "" : raw.toString());
  }
}

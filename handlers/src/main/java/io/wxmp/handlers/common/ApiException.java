package io.wxmp.handlers.common;

import io.vertx.core.json.JsonObject;

/**
 * A failure that the client is meant to see: status, API.md error code and a message for a person.
 * Services fail with it; {@link FailureHandler} renders it.
 */
public final class ApiException extends RuntimeException {
  private final int status;
  private final String code;
  private final JsonObject fields;
  private final Integer retryAfterSeconds;
  private final JsonObject extra;
  /** The dependency a 503 {@code upstream_unavailable} names; null otherwise. */
  private final String part;

  public ApiException(int status, String code, String message) {
    this(status, code, message, null, null);
  }

  private ApiException(int status, String code, String message, JsonObject fields, Integer retryAfterSeconds) {
    this(status, code, message, fields, retryAfterSeconds, null);
  }

  private ApiException(int status, String code, String message, JsonObject fields, Integer retryAfterSeconds,
      JsonObject extra) {
    this(status, code, message, fields, retryAfterSeconds, extra, null, null);
  }

  private ApiException(int status, String code, String message, JsonObject fields, Integer retryAfterSeconds,
      JsonObject extra, String part, Throwable cause) {
    super(message, cause, false, false);
    this.part = part;
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfterSeconds = retryAfterSeconds;
    this.extra = extra;
  }

  /**
   * The same error with one more top-level key beside {@code error} (a 409 {@code already_submitted} carries the
   * stored {@code result}).
   */
  public ApiException with(String key, Object value) {
    JsonObject more = extra == null ? new JsonObject() : extra.copy();
    return new ApiException(status, code, getMessage(), fields, retryAfterSeconds, more.put(key, value));
  }

  public static ApiException badRequest(String message) {
    return new ApiException(400, "bad_request", message);
  }

  /** A validation failure naming each field that is wrong. */
  public static ApiException invalid(JsonObject fields) {
    return new ApiException(400, "bad_request", "Some fields are invalid.", fields, null);
  }

  /** WeChat content security judged the named fields risky (422). */
  public static ApiException contentRejected(JsonObject fields) {
    return new ApiException(422, "content_rejected", "WeChat judged some of the text risky.", fields, null);
  }

  public static ApiException unauthorized() {
    return new ApiException(401, "unauthorized", "Missing, unknown, expired or revoked token.");
  }

  public static ApiException forbidden() {
    return new ApiException(403, "forbidden", "Your role may not do this.");
  }

  public static ApiException notFound() {
    return new ApiException(404, "not_found", "No such resource.");
  }

  public static ApiException conflict(String code, String message) {
    return new ApiException(409, code, message);
  }

  public static ApiException rateLimited(int retryAfterSeconds) {
    return new ApiException(429, "rate_limited", "Too many attempts; try again later.", null, retryAfterSeconds);
  }

  public static ApiException upstreamUnavailable(String what) {
    return upstreamUnavailable(what, null);
  }

  /**
   * 503 naming the part that failed ({@code PostgreSQL}, {@code Redis}, {@code WeChat}, {@code WeChat Pay}), keeping the
   * failure as the cause for the log (never for the client).
   */
  public static ApiException upstreamUnavailable(String what, Throwable cause) {
    return new ApiException(503, "upstream_unavailable", what + " did not answer in time.", null, null, null, what,
        cause);
  }

  /** The part a 503 {@code upstream_unavailable} names, or null for any other error. */
  public String unavailablePart() {
    return part;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public JsonObject fields() {
    return fields;
  }

  public Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }

  public JsonObject body() {
    return body(getMessage());
  }

  /** The error body with the message in the client's language ({@link Messages}). */
  public JsonObject body(String message) {
    JsonObject error = new JsonObject().put("code", code).put("message", message);
    if (fields != null) {
      error.put("fields", fields);
    }
    JsonObject body = extra == null ? new JsonObject() : extra.copy();
    return body.put("error", error);
  }
}

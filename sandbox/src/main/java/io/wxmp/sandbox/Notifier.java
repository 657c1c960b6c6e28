package io.wxmp.sandbox;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends WeChat Pay notifies (payment and refund callbacks) the way WeChat Pay does: signed, with an encrypted
 * resource, retried on the official schedule (scaled by {@code notifyTimeScale}) until a 2xx, each attempt given
 * 5 seconds to answer. Every notify is kept exactly as sent so tests can read, replay or tamper with it. Runs on the
 * sandbox's event loop with Vert.x's non-blocking client.
 */
final class Notifier {
  private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);
  /** Waits after the 1st, 2nd, ... failed attempt: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h. */
  static final long[] RETRY_DELAYS_MS = {
      15_000, 15_000, 30_000, 180_000, 600_000, 1_200_000, 1_800_000, 1_800_000, 1_800_000, 3_600_000,
      10_800_000, 10_800_000, 10_800_000, 21_600_000, 21_600_000};
  static final long ANSWER_TIMEOUT_MS = 5_000;

  /** One notify and what became of it. */
  static final class Notice {
    final String id;
    final String outTradeNo;
    final String outRefundNo;
    final String eventType;
    final String url;
    final String body;
    Map<String, String> headers = Map.of();
    final List<JsonObject> attempts = new ArrayList<>();
    boolean delivered;
    long retryTimer = -1;

    Notice(String id, String outTradeNo, String outRefundNo, String eventType, String url, String body) {
      this.id = id;
      this.outTradeNo = outTradeNo;
      this.outRefundNo = outRefundNo;
      this.eventType = eventType;
      this.url = url;
      this.body = body;
    }

    JsonObject toJson() {
      JsonObject json = new JsonObject().put("id", id).put("outTradeNo", outTradeNo);
      if (outRefundNo != null) {
        json.put("outRefundNo", outRefundNo);
      }
      JsonObject headerJson = new JsonObject();
      headers.forEach(headerJson::put);
      JsonArray attemptJson = new JsonArray();
      attempts.forEach(a -> attemptJson.add(a.copy()));
      return json.put("eventType", eventType).put("url", url).put("headers", headerJson).put("body", body)
          .put("attempts", attemptJson).put("delivered", delivered);
    }
  }

  private final Vertx vertx;
  private final SandboxConfig config;
  private final PayCrypto crypto;
  private final Stats stats;
  private final long answerTimeoutMs;
  private final HttpClient client;
  private final Map<String, Notice> notices = new LinkedHashMap<>();

  Notifier(Vertx vertx, SandboxConfig config, PayCrypto crypto, Stats stats, long answerTimeoutMs) {
    this.vertx = vertx;
    this.config = config;
    this.crypto = crypto;
    this.stats = stats;
    this.answerTimeoutMs = answerTimeoutMs;
    // A simulator on a developer's machine: notify URLs may use self-signed certificates.
    this.client = vertx.createHttpClient(new HttpClientOptions()
        .setConnectTimeout((int) answerTimeoutMs)
        .setTrustAll(true)
        .setVerifyHost(false));
  }

  /**
   * Builds, records and starts delivering a notify whose resource is {@code plaintext} encrypted with
   * {@code originalType} as associated data ("transaction" or "refund").
   */
  Notice send(String eventType, String summary, String originalType, JsonObject plaintext, String url,
      String outTradeNo, String outRefundNo) {
    JsonObject resource = new JsonObject().put("original_type", originalType);
    crypto.encrypt(originalType, plaintext.encode()).forEach(resource::put);
    String id = UUID.randomUUID().toString();
    String body = new JsonObject()
        .put("id", id)
        .put("create_time", PayApi.now())
        .put("resource_type", "encrypt-resource")
        .put("event_type", eventType)
        .put("summary", summary)
        .put("resource", resource)
        .encode();
    Notice notice = new Notice(id, outTradeNo, outRefundNo, eventType, url, body);
    notices.put(id, notice);
    attempt(notice, 0);
    return notice;
  }

  /** Delivers attempt number {@code retries + 1}, freshly signed, and schedules the next one if it fails. */
  private void attempt(Notice notice, int retries) {
    notice.retryTimer = -1;
    if (notice.delivered) {
      return;
    }
    Map<String, String> headers = new LinkedHashMap<>(crypto.signedHeaders(notice.body));
    headers.put("Wechatpay-Signature-Type", PayCrypto.SCHEMA);
    headers.put("Content-Type", "application/json");
    notice.headers = headers;
    post(notice, headers).onComplete(done -> {
      if (!notice.delivered && retries < RETRY_DELAYS_MS.length) {
        long delay = Math.max(1, Math.round(RETRY_DELAYS_MS[retries] * config.notifyTimeScale()));
        notice.retryTimer = vertx.setTimer(delay, id -> attempt(notice, retries + 1));
      } else if (!notice.delivered) {
        LOG.info("notify {} ({}) to {} given up after {} attempts", notice.id, notice.eventType, notice.url,
            notice.attempts.size());
      }
    });
  }

  /** Sends a recorded notify once more with the same bytes and headers (control API); the status it got, 0 if none. */
  Future<JsonObject> redeliver(String id) {
    Notice notice = notices.get(id);
    if (notice == null) {
      return Future.succeededFuture(null);
    }
    return post(notice, notice.headers);
  }

  /** One POST; records the attempt and completes with {@code {"status"}} (0 and an error when nothing answered). */
  private Future<JsonObject> post(Notice notice, Map<String, String> headers) {
    stats.increment("notifyAttempts");
    String at = OffsetDateTime.now().toString();
    RequestOptions options;
    try {
      options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(notice.url)
          .setIdleTimeout(answerTimeoutMs);
    } catch (RuntimeException badUrl) {
      return Future.succeededFuture(record(notice, at, 0, "bad notify_url: " + badUrl.getMessage()));
    }
    headers.forEach(options::putHeader);
    long started = System.nanoTime();
    return client.request(options)
        .compose(request -> request.send(Buffer.buffer(notice.body)))
        .compose(response -> response.body().map(ignored -> response.statusCode()))
        .map(status -> {
          if (System.nanoTime() - started > answerTimeoutMs * 1_000_000) {
            return record(notice, at, status, "answered after more than " + answerTimeoutMs + " ms");
          }
          return record(notice, at, status, null);
        })
        .otherwise(failure -> record(notice, at, 0, String.valueOf(failure.getMessage())));
  }

  private JsonObject record(Notice notice, String at, int status, String error) {
    boolean ok = status >= 200 && status < 300 && error == null;
    JsonObject attempt = new JsonObject().put("at", at).put("status", status);
    if (error != null) {
      attempt.put("error", error);
    }
    notice.attempts.add(attempt);
    if (ok && !notice.delivered) {
      notice.delivered = true;
      stats.increment("notifiesDelivered");
      if (notice.retryTimer >= 0) {
        vertx.cancelTimer(notice.retryTimer);
        notice.retryTimer = -1;
      }
    }
    return attempt.copy();
  }

  JsonArray toJson() {
    JsonArray out = new JsonArray();
    notices.values().forEach(n -> out.add(n.toJson()));
    return out;
  }

  void close() {
    notices.values().forEach(n -> {
      if (n.retryTimer >= 0) {
        vertx.cancelTimer(n.retryTimer);
      }
    });
    client.close();
  }
}

package io.wxmp.handlers.platform;

import cn.binarywang.wx.miniapp.api.WxMaService;
import cn.binarywang.wx.miniapp.bean.WxMaSubscribeMessage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.OutboxConsumer;
import io.wxmp.handlers.common.Upstream;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import me.chanjar.weixin.common.error.WxErrorException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * WeChat subscribe messages after a payment and a refund, in two steps that never hold up a payment:
 *
 * <ol>
 *   <li>an {@link OutboxConsumer} ({@code notifications.relay}) turns each {@code order.paid} / {@code order.refunded}
 *       outbox row into a notification row, in the transaction that moves its position, when the user has an unused
 *       consent for the template (one {@code wx.requestSubscribeMessage} acceptance = one message; a user who has not
 *       accepted gets nothing). Exactly one notification per outbox row, however many servers run;</li>
 *   <li>a sender claims due notifications with a lease ({@code FOR UPDATE SKIP LOCKED}: each row goes to one server)
 *       and sends them through WxJava. WeChat saying the user refused (43101) or the message is malformed ends it; any
 *       other failure (WeChat down, slow, busy) is retried with exponential back-off up to {@code maxAttempts}.</li>
 * </ol>
 *
 * A message whose send timed out may have reached WeChat; it is sent again (at least once, never silently lost).
 * Template data keys: payment {@code thing1} (item title), {@code amount2}, {@code time3}, {@code character_string4}
 * (order number); refund {@code thing1}, {@code amount2} (refunded), {@code time3}, {@code character_string4}.
 */
public final class NotificationRelay {
  private static final Logger log = LoggerFactory.getLogger(NotificationRelay.class);
  private static final ZoneId CHINA = ZoneId.of("Asia/Shanghai");
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm");
  private static final long MAX_BACKOFF_MS = 3_600_000;
  private static final String ORDER = """
      SELECT o.user_id, o.out_trade_no, o.amount_fen, o.paid_at, i.title
      FROM orders o JOIN items i ON i.id = o.item_id WHERE o.id = $1""";
  /** Uses up the user's oldest unused consent for the template and queues the message, or does nothing. */
  private static final String QUEUE = """
      WITH consent AS (
        UPDATE subscribe_consents SET used_at = now()
        WHERE id = (SELECT id FROM subscribe_consents WHERE user_id = $2 AND template_id = $3 AND used_at IS NULL
                    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id)
      INSERT INTO notifications (outbox_id, kind, user_id, template_id, page, data)
      SELECT $1, $4, $2, $3, $5, $6 FROM consent
      ON CONFLICT (outbox_id, kind) DO NOTHING""";
  private static final String CLAIM = """
      UPDATE notifications n
      SET status = 'sending', attempts = n.attempts + 1, lease_until = now() + make_interval(secs => $2)
      FROM users u
      WHERE n.id IN (SELECT id FROM notifications
                     WHERE (status = 'pending' AND next_attempt_at <= now())
                        OR (status = 'sending' AND lease_until < now())
                     ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        AND u.id = n.user_id
      RETURNING n.id, n.template_id, n.page, n.data, n.attempts, u.openid""";
  private static final String SENT = """
      UPDATE notifications SET status = 'sent', sent_at = now(), lease_until = NULL, last_error = NULL
      WHERE id = $1 AND status = 'sending'""";
  private static final String RETRY = """
      UPDATE notifications SET status = 'pending', lease_until = NULL, last_error = $2,
             next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
      WHERE id = $1 AND status = 'sending'""";
  private static final String GIVE_UP = """
      UPDATE notifications SET status = $2, lease_until = NULL, last_error = $3 WHERE id = $1 AND status = 'sending'""";

  /**
   * Relay settings.
   *
   * @param paymentTemplate template id for "payment succeeded" (null: not sent)
   * @param refundTemplate template id for "refund made" (null: not sent)
   * @param page the mini-program page a message opens
   * @param retryBaseMs first retry delay; doubles with each attempt (at most an hour)
   * @param maxAttempts sends tried before a message is given up
   * @param pollMs how often the outbox and the due messages are looked at
   */
  public record Config(String paymentTemplate, String refundTemplate, String page, long retryBaseMs, int maxAttempts,
      long pollMs) {}

  private final Vertx vertx;
  private final Pool pg;
  private final WxMaService wechat;
  private final Upstream upstream;
  private final Config config;
  private final OutboxConsumer consumer;
  private boolean sending;
  private long timer = -1;

  public NotificationRelay(Vertx vertx, Pool pg, WxMaService wechat, Upstream upstream, Config config) {
    this.vertx = vertx;
    this.pg = pg;
    this.wechat = wechat;
    this.upstream = upstream;
    this.config = config;
    // a relay seen for the first time starts after what is there: old payments get no message
    this.consumer = new OutboxConsumer(vertx, pg, "notifications.relay", Set.of("order.paid", "order.refunded"), 100,
        config.pollMs(), true, this::queue);
  }

  public Config config() {
    return config;
  }

  public NotificationRelay start() {
    consumer.start();
    timer = vertx.setPeriodic(config.pollMs(), config.pollMs(), t -> {
      if (!sending) {
        sending = true;
        sendDue().onComplete(done -> {
          sending = false;
          if (done.failed()) {
            log.warn("notification sender pass failed: {}", done.cause().toString());
          }
        });
      }
    });
    return this;
  }

  public void stop() {
    consumer.stop();
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Runs the outbox step once (tests). */
  public Future<Integer> pollOutbox() {
    return consumer.pollOnce();
  }

  private Future<Void> queue(SqlConnection tx, List<OutboxConsumer.Message> messages) {
    Future<Void> chain = Future.succeededFuture();
    for (OutboxConsumer.Message m : messages) {
      boolean payment = m.topic().equals("order.paid");
      String template = payment ? config.paymentTemplate() : config.refundTemplate();
      Long orderId = parseId(m.payload().getValue("orderId"));
      if (template == null || orderId == null) {
        continue;
      }
      chain = chain.compose(v -> tx.preparedQuery(ORDER).execute(Tuple.of(orderId)).compose(rows -> {
        if (rows.size() == 0) {
          return Future.succeededFuture();
        }
        Row o = rows.iterator().next();
        long fen = payment ? o.getLong("amount_fen") : m.payload().getLong("refund", o.getLong("amount_fen"));
        OffsetDateTime at = payment && o.getOffsetDateTime("paid_at") != null ? o.getOffsetDateTime("paid_at")
            : m.createdAt();
        JsonObject data = new JsonObject()
            .put("thing1", value(shorten(o.getString("title"), 20)))
            .put("amount2", value(String.format("¥%d.%02d", fen / 100, fen % 100)))
            .put("time3", value(at.atZoneSameInstant(CHINA).format(TIME)))
            .put("character_string4", value(o.getString("out_trade_no")));
        return tx.preparedQuery(QUEUE).execute(Tuple.of(m.id(), o.getLong("user_id"), template,
            payment ? "payment" : "refund", config.page(), data)).mapEmpty();
      }));
    }
    return chain;
  }

  /** One pass of the sender: claims due messages and sends them; answers how many were sent. */
  public Future<Integer> sendDue() {
    long leaseSec = Math.max(30, upstream.timeoutMs() / 1000 * 3);
    return pg.preparedQuery(CLAIM).execute(Tuple.of(50, leaseSec)).compose(rows -> {
      List<Future<Boolean>> sends = new ArrayList<>();
      for (Row r : rows) {
        sends.add(send(r));
      }
      return Future.join(new ArrayList<>(sends)).transform(done -> {
        int sent = 0;
        for (Future<Boolean> f : sends) {
          sent += f.succeeded() && f.result() ? 1 : 0;
        }
        return Future.succeededFuture(sent);
      });
    });
  }

  private Future<Boolean> send(Row r) {
    long id = r.getLong("id");
    int attempts = r.getInteger("attempts");
    JsonObject data = (JsonObject) r.getValue("data");
    WxMaSubscribeMessage message = new WxMaSubscribeMessage();
    message.setToUser(r.getString("openid"));
    message.setTemplateId(r.getString("template_id"));
    message.setPage(r.getString("page"));
    List<WxMaSubscribeMessage.MsgData> fields = new ArrayList<>();
    data.forEach(e -> fields.add(new WxMaSubscribeMessage.MsgData(e.getKey(),
        ((JsonObject) e.getValue()).getString("value"))));
    message.setData(fields);
    return upstream.call("WeChat", () -> {
          wechat.getMsgService().sendSubscribeMsg(message);
          return true;
        })
        .compose(ok -> pg.preparedQuery(SENT).execute(Tuple.of(id)).map(true))
        .recover(failure -> {
          Integer code = failure instanceof WxErrorException wx ? wx.getError().getErrorCode() : null;
          String error = code != null ? "errcode " + code : failure instanceof ApiException api ? api.code()
              : failure.getClass().getSimpleName();
          if (code != null && (code == 43101 || code == 40003)) {
            return pg.preparedQuery(GIVE_UP).execute(Tuple.of(id, "refused", error)).map(false);
          }
          if (code != null && (code == 40037 || code == 47003 || code == 41030)) {
            log.warn("subscribe message {} rejected by WeChat ({}); check the template settings", id, error);
            return pg.preparedQuery(GIVE_UP).execute(Tuple.of(id, "failed", error)).map(false);
          }
          if (attempts >= config.maxAttempts()) {
            log.warn("subscribe message {} given up after {} attempts ({})", id, attempts, error);
            return pg.preparedQuery(GIVE_UP).execute(Tuple.of(id, "failed", error)).map(false);
          }
          long delay = Math.min(MAX_BACKOFF_MS, config.retryBaseMs() << Math.min(attempts - 1, 20));
          log.info("subscribe message {} not sent ({}); retry {} in {} ms", id, error, attempts + 1, delay);
          return pg.preparedQuery(RETRY).execute(Tuple.of(id, error, delay)).map(false);
        });
  }

  private static JsonObject value(String v) {
    return new JsonObject().put("value", v);
  }

  private static String shorten(String text, int max) {
    if (text == null) {
      return "";
    }
    return text.codePointCount(0, text.length()) <= max ? text
        : text.substring(0, text.offsetByCodePoints(0, max - 1)) + "…";
  }

  private static Long parseId(Object value) {
    try {
      return value == null ? null : Long.parseLong(value.toString());
    } catch (NumberFormatException e) {
      return null;
    }
  }
}

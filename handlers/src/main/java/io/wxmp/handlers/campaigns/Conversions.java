package io.wxmp.handlers.campaigns;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.Ids;
import io.wxmp.handlers.common.OutboxConsumer;
import java.util.List;
import java.util.Set;

/**
 * Campaign conversions from the payment outbox, read with a position of their own ({@value #CONSUMER}): a paid order
 * of a campaign's item is that campaign's conversion when the buyer clicked it (a click in the billing ledger, so one
 * with a valid token) in the 7 days before paying; the last such click wins. One row per order (its primary key), so a
 * duplicated outbox row or a second server counts nothing twice; a full refund sets {@code undone_at}, a partial one
 * leaves the conversion.
 *
 * <p>Each outbox row is applied in the transaction that moves the consumer's position past it (see
 * {@link OutboxConsumer}), so a conversion is recorded exactly once whatever the crashes and servers.
 */
public final class Conversions {
  public static final String CONSUMER = "campaigns.conversions";
  /**
   * The last click, within the 7 days before the payment, on a campaign of the order's item by its buyer. WeChat Pay
   * reports the payment's time to the second, so a click in that same second counts as before it.
   */
  private static final String ATTRIBUTE = """
      INSERT INTO campaign_conversions (order_id, campaign_id, user_id, item_id, click_at, paid_at, amount_fen)
      SELECT o.id, l.campaign_id, o.user_id, o.item_id, l.at, o.paid_at, o.amount_fen
      FROM orders o
      JOIN LATERAL (SELECT campaign_id, at FROM campaign_ledger
                    WHERE user_id = o.user_id AND item_id = o.item_id AND event_type = 'click'
                      AND at < o.paid_at + interval '1 second' AND at > o.paid_at - interval '7 days'
                    ORDER BY at DESC, id DESC LIMIT 1) l ON true
      WHERE o.id = $1 AND o.paid_at IS NOT NULL
      ON CONFLICT (order_id) DO NOTHING""";
  private static final String UNDO = """
      UPDATE campaign_conversions SET undone_at = now()
      WHERE order_id = $1 AND undone_at IS NULL
        AND EXISTS (SELECT 1 FROM orders o WHERE o.id = $1 AND o.refunded_fen >= o.amount_fen)""";

  private final OutboxConsumer consumer;

  public Conversions(Vertx vertx, Pool pg, long pollMs) {
    this.consumer = new OutboxConsumer(vertx, pg, CONSUMER, Set.of("order.paid", "order.refunded"), 100, pollMs,
        Conversions::apply);
  }

  public Conversions start() {
    consumer.start();
    return this;
  }

  public void stop() {
    consumer.stop();
  }

  /** One poll now (tests): how many outbox rows it moved past. */
  public Future<Integer> pollOnce() {
    return consumer.pollOnce();
  }

  static Future<Void> apply(SqlConnection tx, List<OutboxConsumer.Message> messages) {
    Future<Void> chain = Future.succeededFuture();
    for (OutboxConsumer.Message m : messages) {
      Long order = Ids.parseOrNull(m.payload().getString("orderId"));
      if (order == null) {
        continue;
      }
      if (m.topic().equals("order.paid")) {
        chain = chain.compose(v -> tx.preparedQuery(ATTRIBUTE).execute(Tuple.of(order)).mapEmpty());
      } else if (Boolean.TRUE.equals(m.payload().getBoolean("full"))) {
        chain = chain.compose(v -> tx.preparedQuery(UNDO).execute(Tuple.of(order)).mapEmpty());
      }
    }
    return chain;
  }
}

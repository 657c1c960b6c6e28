package io.wxmp.handlers.common;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One named reader of the payment {@code outbox} (rows written in the transaction that changed an order: topics
 * {@code order.paid}, {@code order.refunded}, {@code order.closed}, {@code order.refund_failed}, {@code order.review}).
 *
 * <p>Each poll, in one transaction: lock the consumer's position row ({@code SKIP LOCKED}: another server polling the
 * same consumer right now makes this poll a no-op), read the next rows after it, give the ones of the wanted topics to
 * the {@link Handler} <em>inside that transaction</em>, and move the position past every row read. The handler's
 * database effects and the new position commit together or not at all, so every row is applied exactly once per
 * consumer whatever the number of servers, crashes and retries. A handler with an effect outside PostgreSQL (a WeChat
 * message) writes a row of its own here and sends it afterwards (see the notification relay).
 *
 * <p>Rows are read in (txid, id) order and only once no older transaction is still running (see V21), so a row that
 * commits late is never skipped.
 *
 * <pre>{@code
 * OutboxConsumer purchases = new OutboxConsumer(vertx, pg, "events.purchases", Set.of("order.paid"), 100, 500,
 *     (tx, messages) -> insertPurchaseEvents(tx, messages));
 * purchases.start();            // polls every 500 ms (and at once again after a full batch)
 * ...
 * purchases.stop();
 * }</pre>
 */
public final class OutboxConsumer {
  private static final Logger log = LoggerFactory.getLogger(OutboxConsumer.class);
  private static final String ENSURE_POSITION = """
      INSERT INTO outbox_positions (consumer, last_txid, last_id)
      VALUES ($1, CASE WHEN $2 THEN pg_snapshot_xmin(pg_current_snapshot()) ELSE '0'::xid8 END, 0)
      ON CONFLICT (consumer) DO NOTHING""";
  private static final String LOCK_POSITION = """
      SELECT last_txid::text AS last_txid, last_id FROM outbox_positions WHERE consumer = $1 FOR UPDATE SKIP LOCKED""";
  private static final String NEXT = """
      SELECT id, txid::text AS txid, topic, payload, created_at FROM outbox
      WHERE (txid, id) > ($1::text::xid8, $2) AND txid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY txid, id LIMIT $3""";
  private static final String MOVE = """
      UPDATE outbox_positions SET last_txid = $2::text::xid8, last_id = $3, updated_at = now() WHERE consumer = $1""";

  /** One outbox row. */
  public record Message(long id, String topic, JsonObject payload, OffsetDateTime createdAt) {}

  /** Applies a batch (in outbox order) using only {@code tx}; a failure rolls the batch back and it comes again. */
  @FunctionalInterface
  public interface Handler {
    Future<Void> handle(SqlConnection tx, List<Message> messages);
  }

  private final Vertx vertx;
  private final Pool pg;
  private final String name;
  private final Set<String> topics;
  private final int batchSize;
  private final long pollMs;
  private final boolean fromNow;
  private final Handler handler;
  private volatile boolean running;
  private boolean polling;
  private Future<Void> ensured;
  private long timer = -1;

  /** A consumer that starts at the beginning of the outbox. {@code topics} empty means every topic. */
  public OutboxConsumer(Vertx vertx, Pool pg, String name, Set<String> topics, int batchSize, long pollMs,
      Handler handler) {
    this(vertx, pg, name, topics, batchSize, pollMs, false, handler);
  }

  /**
   * @param fromNow a consumer seen for the first time starts after the rows already there (a relay of messages that
   *     would be stale) instead of at the beginning (an event history)
   */
  public OutboxConsumer(Vertx vertx, Pool pg, String name, Set<String> topics, int batchSize, long pollMs,
      boolean fromNow, Handler handler) {
    this.vertx = vertx;
    this.pg = pg;
    this.name = name;
    this.topics = Set.copyOf(topics);
    this.batchSize = batchSize;
    this.pollMs = pollMs;
    this.fromNow = fromNow;
    this.handler = handler;
  }

  public String name() {
    return name;
  }

  /** Polls every {@code pollMs}, and again at once after a full batch. */
  public OutboxConsumer start() {
    running = true;
    timer = vertx.setPeriodic(pollMs, pollMs, t -> drain());
    return this;
  }

  public void stop() {
    running = false;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void drain() {
    if (polling || !running) {
      return;
    }
    polling = true;
    pollOnce().onComplete(done -> {
      polling = false;
      if (done.failed()) {
        log.warn("outbox consumer {}: poll failed, retrying in {} ms: {}", name, pollMs, done.cause().toString());
      } else if (done.result() >= batchSize && running) {
        vertx.runOnContext(v -> drain());
      }
    });
  }

  /**
   * One poll: answers how many outbox rows it moved past (0 when there was nothing, or another server held the
   * position). Tests call it to run the consumer now.
   */
  public Future<Integer> pollOnce() {
    if (ensured == null || ensured.failed()) {
      ensured = pg.preparedQuery(ENSURE_POSITION).execute(Tuple.of(name, fromNow)).mapEmpty();
    }
    return ensured.compose(v -> pg.withTransaction(tx -> tx.preparedQuery(LOCK_POSITION).execute(Tuple.of(name))
        .compose(position -> {
          if (position.size() == 0) {
            return Future.succeededFuture(0); // another server is on it
          }
          Row p = position.iterator().next();
          return tx.preparedQuery(NEXT).execute(Tuple.of(p.getString("last_txid"), p.getLong("last_id"), batchSize))
              .compose(rows -> {
                if (rows.size() == 0) {
                  return Future.succeededFuture(0);
                }
                List<Message> wanted = new ArrayList<>();
                String lastTxid = null;
                long lastId = 0;
                for (Row r : rows) {
                  lastTxid = r.getString("txid");
                  lastId = r.getLong("id");
                  String topic = r.getString("topic");
                  if (topics.isEmpty() || topics.contains(topic)) {
                    Object payload = r.getValue("payload");
                    wanted.add(new Message(lastId, topic, payload instanceof JsonObject o ? o : new JsonObject(),
                        r.getOffsetDateTime("created_at")));
                  }
                }
                String txid = lastTxid;
                long id = lastId;
                int read = rows.size();
                Future<Void> handled = wanted.isEmpty() ? Future.succeededFuture() : handler.handle(tx, wanted);
                return handled.compose(x -> tx.preparedQuery(MOVE).execute(Tuple.of(name, txid, id))).map(read);
              });
        })));
  }
}

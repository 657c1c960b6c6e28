package io.wxmp.handlers.events;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.common.OutboxConsumer;
import io.wxmp.handlers.events.EventRepository.NewEvent;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Purchases as feed events, the strongest signal (EventWeights): an {@link OutboxConsumer} of its own
 * ({@code events.purchases}, beside the notification relay's position) turns each {@code order.paid} outbox row into a
 * {@code purchase} event and each {@code order.refunded} row that took the whole amount back into a {@code refund}
 * event (which cancels the purchase's weight); a partial refund keeps the grant and so keeps the signal.
 *
 * <p>Each event's client id is a server key ({@code ~order:<id>:purchase}, {@code ~order:<id>:refund}) in the same
 * dedup table as the clients' ids, and it is stored through {@link EventService#recordServerEvents} (so the online state
 * and the fold-in hear it like any other event). That store commits on its own connection before the consumer's
 * position moves: a poll that dies in between hands the rows out again and the keys make the second store a no-op,
 * so each purchase is one event. A consumer seen for the first time starts at the beginning of the outbox (the event
 * history is wanted, unlike stale notifications). A row without the ids it needs is logged and passed over, never
 * retried for ever.
 */
public final class PurchaseEvents {
  private static final Logger log = LoggerFactory.getLogger(PurchaseEvents.class);
  public static final String CONSUMER = "events.purchases";
  private static final String ORDER = "SELECT user_id, item_id FROM orders WHERE id = $1";

  /**
   * The buyers still there, their rows locked (FOR KEY SHARE, in the consumer's transaction, held until the events are
   * stored): an erasure takes the user's row FOR UPDATE first, so it either waits for these events and deletes them,
   * or has deleted the user before this reads, and no event is stored.
   */
  private static final String LIVE_USERS =
      "SELECT id FROM users WHERE id = ANY($1) AND erased_at IS NULL FOR KEY SHARE";

  private final EventService events;
  private final OutboxConsumer consumer;

  public PurchaseEvents(Vertx vertx, Pool pg, EventService events, long pollMs) {
    this.events = events;
    this.consumer = new OutboxConsumer(vertx, pg, CONSUMER, Set.of("order.paid", "order.refunded"), 100, pollMs,
        false, this::record);
  }

  public PurchaseEvents start() {
    consumer.start();
    return this;
  }

  public void stop() {
    consumer.stop();
  }

  /** One poll now (tests); answers how many outbox rows it moved past. */
  public Future<Integer> pollOnce() {
    return consumer.pollOnce();
  }

  private record Pending(long userId, NewEvent event) {}

  private Future<Void> record(SqlConnection tx, List<OutboxConsumer.Message> messages) {
    List<Future<Pending>> pending = new ArrayList<>();
    for (OutboxConsumer.Message m : messages) {
      pending.add(toEvent(tx, m));
    }
    return Future.all(new ArrayList<>(pending)).compose(all -> {
      // grouped per user, in outbox order: one store (one INSERT statement) per user of the batch
      Map<Long, List<NewEvent>> byUser = new LinkedHashMap<>();
      for (Future<Pending> f : pending) {
        Pending p = f.result();
        if (p != null) {
          byUser.computeIfAbsent(p.userId(), k -> new ArrayList<>()).add(p.event());
        }
      }
      if (byUser.isEmpty()) {
        return Future.succeededFuture();
      }
      // a user who erased their account (DELETE /me) after paying gets no event: erasure is final, also for what the
      // outbox still held about them (their orders moved to an anonymous row, their user row is gone)
      return tx.preparedQuery(LIVE_USERS).execute(Tuple.of(byUser.keySet().toArray(new Long[0]))).compose(rows -> {
        Set<Long> live = new java.util.HashSet<>();
        rows.forEach(r -> live.add(r.getLong("id")));
        List<Future<Integer>> stores = new ArrayList<>();
        byUser.forEach((user, list) -> {
          if (live.contains(user)) {
            stores.add(events.recordServerEvents(user, list));
          }
        });
        return Future.all(new ArrayList<>(stores)).mapEmpty();
      });
    });
  }

  /** The event an outbox row stands for, or null (a partial refund, a row missing its ids, an unknown order). */
  private Future<Pending> toEvent(SqlConnection tx, OutboxConsumer.Message m) {
    Long orderId = id(m.payload().getValue("orderId"));
    if (orderId == null) {
      log.warn("outbox row {} ({}) has no orderId; no purchase event", m.id(), m.topic());
      return Future.succeededFuture(null);
    }
    boolean paid = m.topic().equals("order.paid");
    if (!paid && !Boolean.TRUE.equals(m.payload().getBoolean("full"))) {
      return Future.succeededFuture(null);
    }
    String type = paid ? "purchase" : "refund";
    OffsetDateTime at = m.createdAt();
    Long userId = id(m.payload().getValue("userId"));
    Long itemId = id(m.payload().getValue("itemId"));
    Future<long[]> ids = userId != null && itemId != null
        ? Future.succeededFuture(new long[] {userId, itemId})
        : tx.preparedQuery(ORDER).execute(Tuple.of(orderId)).map(rows -> {
          if (rows.size() == 0) {
            return null;
          }
          Row r = rows.iterator().next();
          return new long[] {r.getLong("user_id"), r.getLong("item_id")};
        });
    return ids.map(found -> {
      if (found == null) {
        log.warn("outbox row {} ({}) names order {}, which does not exist; no {} event", m.id(), m.topic(), orderId,
            type);
        return null;
      }
      return new Pending(found[0], new NewEvent("~order:" + orderId + ":" + type, found[1], type, at, null, null,
          null));
    });
  }

  private static Long id(Object value) {
    if (value instanceof Number n) {
      return n.longValue();
    }
    if (value instanceof String s) {
      try {
        return Long.parseLong(s);
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }
}

package io.wxmp.handlers.events;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.feed.FeedToken;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** SQL for the events table and its dedup keys: the batch insert, the lookups that validate a batch, maintenance. */
public final class EventRepository {
  /**
   * Batches in one statement (so one implicit transaction, one commit): the client ids go into event_ids first, and
   * only the rows whose (user, id) was new there (or that have no id) are stored. A concurrent batch with the same id
   * waits on the unique key and then skips it, so exactly one of them stores the event; the ids go in sorted, so two
   * statements that share several wait for each other in one order, never in a cycle. Ids come from the sequence
   * inside the statement, so the answer says which input row got which id. One statement never holds two batches of
   * one user (see {@link #takeGroup}): their rows would both find the one new (user, id) row.
   */
  private static final String INSERT = """
      WITH input AS (
        SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[],
                             $7::int[], $8::text[], $9::int[], $10::text[], $11::text[], $12::text[], $13::text[],
                             $14::text[], $15::bigint[])
          AS t(user_id, ord, client_id, item_id, type, at, dwell_ms, token_id, position, reason_kind, campaign_id,
               experiment_id, arm, model_version, ref_user_id)
      ), fresh AS (
        INSERT INTO event_ids (user_id, client_id)
        SELECT user_id, client_id FROM input WHERE client_id IS NOT NULL ORDER BY user_id, client_id
        ON CONFLICT DO NOTHING
        RETURNING user_id, client_id
      ), kept AS (
        SELECT nextval('events_id_seq') AS id, input.* FROM input
        WHERE client_id IS NULL OR (user_id, client_id) IN (SELECT user_id, client_id FROM fresh)
      ), stored AS (
        INSERT INTO events (id, user_id, item_id, type, at, dwell_ms, client_id, token_id, position, reason_kind,
                            campaign_id, experiment_id, arm, model_version, ref_user_id)
        SELECT id, user_id, item_id, type, at, dwell_ms, client_id, token_id, position, reason_kind, campaign_id,
               experiment_id, arm, model_version, ref_user_id
        FROM kept
      )
      SELECT id, ord FROM kept""";
  /**
   * How many insert statements run at once. A batch that arrives while they all run waits for the first to finish
   * and then goes with every batch that waited meanwhile, in one statement: under load, one parse-free execution,
   * one trigger run and one commit (a WAL flush) serve many requests; with nothing in flight a batch goes at once.
   */
  static final int STATEMENTS_IN_FLIGHT = 4;
  /** The most rows one statement takes (the arrays of one execution). */
  static final int MAX_ROWS_PER_STATEMENT = 2_000;

  /** Items an event may name: anything but a draft, which no user was shown. */
  private static final String ITEM_TAGS = "SELECT id, tags FROM items WHERE id = ANY($1) AND status <> 'draft'";
  private static final String USERS = "SELECT id FROM users WHERE id = ANY($1)";
  private static final String ENSURE_PARTITION = "SELECT events_ensure_partition($1)";
  private static final String DROP_PARTITIONS = "SELECT events_drop_partitions_before($1)";
  private static final String DELETE_OLD_EVENTS = """
      DELETE FROM events WHERE at < $1 AND id IN (SELECT id FROM events WHERE at < $1 LIMIT $2)""";
  private static final String DELETE_OLD_IDS = """
      DELETE FROM event_ids WHERE (user_id, client_id) IN
        (SELECT user_id, client_id FROM event_ids WHERE seen_at < $1 LIMIT $2)""";

  /** One event to store; {@code token} is already verified for this user and item (else null). */
  public record NewEvent(String clientId, long itemId, String type, OffsetDateTime at, Integer dwellMs,
      FeedToken token, Long refUserId) {}

  private final Pool pg;

  public EventRepository(Pool pg) {
    this.pg = pg;
  }

  /** The tags of each item among {@code ids} that events may name; the others are absent. */
  public Future<Map<Long, List<String>>> itemTags(Set<Long> ids) {
    return pg.preparedQuery(ITEM_TAGS).execute(Tuple.tuple().addArrayOfLong(ids.toArray(new Long[0]))).map(rows -> {
      Map<Long, List<String>> items = new HashMap<>();
      for (Row row : rows) {
        String[] tags = row.getArrayOfStrings("tags");
        items.put(row.getLong("id"), tags == null ? List.of() : Arrays.asList(tags));
      }
      return items;
    });
  }

  /** Which of {@code ids} are users. */
  public Future<Set<Long>> knownUsers(Set<Long> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    return pg.preparedQuery(USERS).execute(Tuple.tuple().addArrayOfLong(ids.toArray(new Long[0]))).map(rows -> {
      Set<Long> users = new HashSet<>();
      rows.forEach(r -> users.add(r.getLong(0)));
      return users;
    });
  }

  /** A batch waiting for its statement; answered on the context it came from. */
  private record Pending(long userId, List<NewEvent> events, Context context, Promise<Long[]> answer) {
    void complete(AsyncResult<Long[]> result) {
      if (context == null || context == Vertx.currentContext()) {
        answer.handle(result);
      } else {
        context.runOnContext(v -> answer.handle(result));
      }
    }
  }

  private final Object lock = new Object();
  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
  private int inFlight;

  /**
   * Stores a batch (its client ids already distinct); returns, per input row, the new event's id, or null where the
   * client id was seen before. Answers once the rows are committed, alone or in one statement with other users'
   * batches that arrived while {@link #STATEMENTS_IN_FLIGHT} statements ran.
   */
  public Future<Long[]> insert(long userId, List<NewEvent> events) {
    if (events.isEmpty()) {
      return Future.succeededFuture(new Long[0]);
    }
    Pending batch = new Pending(userId, events, Vertx.currentContext(), Promise.promise());
    List<Pending> group;
    synchronized (lock) {
      waiting.add(batch);
      if (inFlight >= STATEMENTS_IN_FLIGHT) {
        return batch.answer().future();
      }
      inFlight++;
      group = takeGroup();
    }
    send(group);
    return batch.answer().future();
  }

  /**
   * The waiting batches for one statement, oldest first, up to {@link #MAX_ROWS_PER_STATEMENT} rows (at least one
   * batch), at most one per user: a user's later batch waits for the next statement. Called holding the lock.
   */
  private List<Pending> takeGroup() {
    List<Pending> group = new ArrayList<>();
    Set<Long> users = new HashSet<>();
    int rows = 0;
    for (Iterator<Pending> it = waiting.iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (!group.isEmpty() && rows + p.events().size() > MAX_ROWS_PER_STATEMENT) {
        break;
      }
      if (users.add(p.userId())) {
        group.add(p);
        rows += p.events().size();
        it.remove();
      }
    }
    return group;
  }

  private void send(List<Pending> group) {
    Future<List<Long[]>> executed;
    try {
      executed = execute(group);
    } catch (RuntimeException e) {
      executed = Future.failedFuture(e); // the slot must still be given back below
    }
    executed.onComplete(result -> {
      List<Pending> next = null;
      synchronized (lock) {
        if (waiting.isEmpty()) {
          inFlight--;
        } else {
          next = takeGroup();
        }
      }
      if (result.succeeded() || group.size() == 1) {
        for (int i = 0; i < group.size(); i++) {
          int k = i;
          group.get(i).complete(result.map(ids -> ids.get(k)));
        }
      } else if (result.cause() instanceof PgException) {
        // PostgreSQL refused the statement, so none of it is stored: each batch alone, so that one that cannot be
        // stored (or a deadlock among several) fails no other
        for (Pending p : group) {
          execute(List.of(p)).onComplete(alone -> p.complete(alone.map(ids -> ids.get(0))));
        }
      } else {
        // a lost connection or a timeout: whether it committed is not known, and a retry here could store events
        // without a client id twice; the clients retry, and their ids make that safe
        group.forEach(p -> p.complete(Future.failedFuture(result.cause())));
      }
      if (next != null) {
        send(next);
      }
    });
  }

  /** One statement for the group; per batch, the ids of its rows. */
  private Future<List<Long[]>> execute(List<Pending> group) {
    int n = 0;
    for (Pending p : group) {
      n += p.events().size();
    }
    Long[] user = new Long[n];
    Integer[] ord = new Integer[n];
    String[] clientId = new String[n];
    Long[] itemId = new Long[n];
    String[] type = new String[n];
    OffsetDateTime[] at = new OffsetDateTime[n];
    Integer[] dwell = new Integer[n];
    String[] tokenId = new String[n];
    Integer[] position = new Integer[n];
    String[] reason = new String[n];
    String[] campaign = new String[n];
    String[] experiment = new String[n];
    String[] arm = new String[n];
    String[] model = new String[n];
    Long[] ref = new Long[n];
    int[] from = new int[group.size()];
    int i = 0;
    for (int g = 0; g < group.size(); g++) {
      from[g] = i;
      Long userId = group.get(g).userId();
      for (NewEvent e : group.get(g).events()) {
        user[i] = userId;
        ord[i] = i;
        clientId[i] = e.clientId();
        itemId[i] = e.itemId();
        type[i] = e.type();
        at[i] = e.at();
        dwell[i] = e.dwellMs();
        FeedToken t = e.token();
        if (t != null) {
          tokenId[i] = t.tokenId();
          position[i] = t.position();
          reason[i] = t.reasonKind();
          campaign[i] = t.campaignId();
          experiment[i] = t.experimentId();
          arm[i] = t.arm();
          model[i] = t.modelVersion();
        }
        ref[i] = e.refUserId();
        i++;
      }
    }
    Tuple args = Tuple.tuple(List.of(user, ord, clientId, itemId, type, at, dwell, tokenId, position, reason,
        campaign, experiment, arm, model, ref));
    int rows = n;
    return pg.preparedQuery(INSERT).execute(args).map(stored -> {
      Long[] ids = new Long[rows];
      for (Row row : stored) {
        ids[row.getInteger("ord")] = row.getLong("id");
      }
      List<Long[]> perBatch = new ArrayList<>(group.size());
      for (int g = 0; g < group.size(); g++) {
        int end = g + 1 < group.size() ? from[g + 1] : rows;
        perBatch.add(Arrays.copyOfRange(ids, from[g], end));
      }
      return perBatch;
    });
  }

  // ---- maintenance ----

  /** Makes the monthly partition holding {@code day} unless it exists; true when it made one. */
  public Future<Boolean> ensurePartition(LocalDate day) {
    return pg.preparedQuery(ENSURE_PARTITION).execute(Tuple.of(day.withDayOfMonth(1)))
        .map(rows -> rows.iterator().next().getBoolean(0));
  }

  public Future<Integer> dropPartitionsBefore(OffsetDateTime cutoff) {
    return pg.preparedQuery(DROP_PARTITIONS).execute(Tuple.of(cutoff.withOffsetSameInstant(ZoneOffset.UTC)))
        .map(rows -> rows.iterator().next().getInteger(0));
  }

  /** Deletes at most {@code limit} events older than the cutoff; returns how many. */
  public Future<Integer> deleteEventsBefore(OffsetDateTime cutoff, int limit) {
    return pg.preparedQuery(DELETE_OLD_EVENTS).execute(Tuple.of(cutoff, limit)).map(rows -> rows.rowCount());
  }

  /** Forgets at most {@code limit} client ids first seen before the cutoff; returns how many. */
  public Future<Integer> deleteIdsBefore(OffsetDateTime cutoff, int limit) {
    return pg.preparedQuery(DELETE_OLD_IDS).execute(Tuple.of(cutoff, limit)).map(rows -> rows.rowCount());
  }
}

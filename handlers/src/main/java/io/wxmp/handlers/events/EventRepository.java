package io.wxmp.handlers.events;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.feed.FeedToken;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** SQL for the events table and its dedup keys: the batch insert, the lookups that validate a batch, maintenance. */
public final class EventRepository {
  /**
   * A whole batch in one statement (so one implicit transaction): the client ids go into event_ids first, and only
   * the rows whose id was new there (or that have no id) are stored. A concurrent batch with the same id waits on
   * the unique key and then skips it, so exactly one of them stores the event. Ids come from the sequence inside the
   * statement, so the answer says which input row got which id.
   */
  private static final String INSERT = """
      WITH input AS (
        SELECT * FROM unnest($2::int[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[], $7::int[],
                             $8::text[], $9::int[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                             $15::bigint[])
          AS t(ord, client_id, item_id, type, at, dwell_ms, token_id, position, reason_kind, campaign_id,
               experiment_id, arm, model_version, ref_user_id)
      ), fresh AS (
        INSERT INTO event_ids (user_id, client_id)
        SELECT $1, client_id FROM input WHERE client_id IS NOT NULL
        ON CONFLICT DO NOTHING
        RETURNING client_id
      ), kept AS (
        SELECT nextval('events_id_seq') AS id, input.* FROM input
        WHERE client_id IS NULL OR client_id IN (SELECT client_id FROM fresh)
      ), stored AS (
        INSERT INTO events (id, user_id, item_id, type, at, dwell_ms, client_id, token_id, position, reason_kind,
                            campaign_id, experiment_id, arm, model_version, ref_user_id)
        SELECT id, $1, item_id, type, at, dwell_ms, client_id, token_id, position, reason_kind, campaign_id,
               experiment_id, arm, model_version, ref_user_id
        FROM kept
      )
      SELECT id, ord FROM kept""";
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

  /**
   * Stores a batch (its client ids already distinct); returns, per input row, the new event's id, or null where the
   * client id was seen before.
   */
  public Future<Long[]> insert(long userId, List<NewEvent> events) {
    int n = events.size();
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
    for (int i = 0; i < n; i++) {
      NewEvent e = events.get(i);
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
    }
    Tuple args = Tuple.tuple(List.of(userId, ord, clientId, itemId, type, at, dwell, tokenId, position, reason,
        campaign, experiment, arm, model, ref));
    return pg.preparedQuery(INSERT).execute(args).map(rows -> {
      Long[] ids = new Long[n];
      for (Row row : rows) {
        ids[row.getInteger("ord")] = row.getLong("id");
      }
      return ids;
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

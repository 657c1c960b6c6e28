package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/** SQL for model versions and their vectors (V15), and the training data read from events. */
public final class ModelStore {
  /** Rows per multi-row insert of vectors. */
  private static final int CHUNK = 2_000;
  private static final String COLUMNS = "id, version, status, params, users, items, nnz, metrics, error, started_at, trained_at";
  private static final String NEWEST = "SELECT " + COLUMNS + " FROM feed_models ORDER BY id DESC LIMIT 1";
  private static final String NEWEST_SERVING = "SELECT " + COLUMNS
      + " FROM feed_models WHERE status = 'serving' ORDER BY id DESC LIMIT 1";
  private static final String BY_VERSION = "SELECT " + COLUMNS + " FROM feed_models WHERE version = $1";
  private static final String RUNNING = "SELECT " + COLUMNS
      + " FROM feed_models WHERE status = 'training' ORDER BY id DESC LIMIT 1";
  private static final String CREATE = """
      WITH n AS (SELECT nextval('feed_models_id_seq') AS id)
      INSERT INTO feed_models (id, version, params) SELECT id, 'v' || id, $1 FROM n RETURNING\s""" + COLUMNS;
  private static final String FINISH = """
      UPDATE feed_models SET status = 'serving', users = $2, items = $3, nnz = $4, metrics = $5, trained_at = now()
      WHERE id = $1 AND status = 'training'""";
  private static final String FAIL = "UPDATE feed_models SET status = 'failed', error = $2 WHERE id = $1 AND status = 'training'";
  private static final String ABANDON = """
      UPDATE feed_models SET status = 'failed', error = 'abandoned: its server stopped before it finished'
      WHERE status = 'training' AND started_at < now() - make_interval(secs => $1)""";
  /** Keeps the newest {@code $1} serving versions (and anything newer than them); older ones go with their vectors. */
  private static final String PRUNE = """
      DELETE FROM feed_models WHERE id < (SELECT min(id) FROM (SELECT id FROM feed_models WHERE status = 'serving'
                                                               ORDER BY id DESC LIMIT $1) keep)""";
  private static final String INSERT_ITEMS = """
      INSERT INTO feed_item_vectors (model_id, item_id, vector) SELECT $1, * FROM unnest($2::bigint[], $3::bytea[])""";
  private static final String INSERT_USERS = """
      INSERT INTO feed_user_vectors (model_id, user_id, vector, top_items)
      SELECT $1, u, v, string_to_array(t, ',')::bigint[] FROM unnest($2::bigint[], $3::bytea[], $4::text[]) AS x(u, v, t)""";
  private static final String ITEM_VECTORS = "SELECT item_id, vector FROM feed_item_vectors WHERE model_id = $1 ORDER BY item_id";
  private static final String USER_VECTOR = "SELECT vector, top_items FROM feed_user_vectors WHERE model_id = $1 AND user_id = $2";
  /**
   * Summed confidence per (user, item) from the events, weighted per type; only pairs with a positive sum, of items
   * and users that still exist. Ordered, so ids map to rows the same way every time.
   */
  private static final String TRAINING_DATA = """
      SELECT e.user_id, e.item_id, sum(w.weight)::real AS strength
      FROM events e JOIN unnest($1::text[], $2::real[]) AS w(type, weight) ON w.type = e.type
      WHERE EXISTS (SELECT 1 FROM items i WHERE i.id = e.item_id) AND EXISTS (SELECT 1 FROM users u WHERE u.id = e.user_id)
      GROUP BY e.user_id, e.item_id HAVING sum(w.weight) > 0
      ORDER BY e.user_id, e.item_id""";
  /** Quiz answers: each user's summed interest per tag (user_interest_events), for the tag columns of training. */
  private static final String INTEREST_DATA = """
      SELECT x.user_id, x.tag, sum(x.weight)::real AS strength FROM user_interest_events x
      WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = x.user_id)
      GROUP BY x.user_id, x.tag HAVING sum(x.weight) > 0
      ORDER BY x.user_id, x.tag""";

  /** One model version. */
  public record ModelRow(long id, String version, String status, JsonObject params, Integer users, Integer items,
      Long nnz, JsonObject metrics, String error, OffsetDateTime startedAt, OffsetDateTime trainedAt) {}

  /**
   * What training reads: parallel arrays of (user id, item id, strength), ordered by user then item; and the quiz
   * interests as (user id, tag, strength), strength already times the quiz weight (empty when that weight is 0).
   */
  public record TrainingData(long[] userIds, long[] itemIds, float[] strengths, long[] tagUserIds, String[] tags,
      float[] tagStrengths) {
    public TrainingData(long[] userIds, long[] itemIds, float[] strengths) {
      this(userIds, itemIds, strengths, new long[0], new String[0], new float[0]);
    }
  }

  private final Pool pg;

  public ModelStore(Pool pg) {
    this.pg = pg;
  }

  public Future<ModelRow> newest() {
    return pg.query(NEWEST).execute().map(ModelStore::first);
  }

  public Future<ModelRow> newestServing() {
    return pg.query(NEWEST_SERVING).execute().map(ModelStore::first);
  }

  public Future<ModelRow> byVersion(String version) {
    return pg.preparedQuery(BY_VERSION).execute(Tuple.of(version)).map(ModelStore::first);
  }

  public Future<ModelRow> running() {
    return pg.query(RUNNING).execute().map(ModelStore::first);
  }

  public Future<ModelRow> create(JsonObject params) {
    return pg.preparedQuery(CREATE).execute(Tuple.of(params)).map(ModelStore::first);
  }

  public Future<Void> finish(long id, int users, int items, long nnz, JsonObject metrics) {
    return pg.preparedQuery(FINISH).execute(Tuple.of(id, users, items, nnz, metrics)).mapEmpty();
  }

  public Future<Void> fail(long id, String error) {
    return pg.preparedQuery(FAIL).execute(Tuple.of(id, error.length() > 500 ? error.substring(0, 500) : error))
        .mapEmpty();
  }

  public Future<Void> abandonOlderThan(long seconds) {
    return pg.preparedQuery(ABANDON).execute(Tuple.of((double) seconds)).mapEmpty();
  }

  public Future<Void> prune(int keep) {
    return pg.preparedQuery(PRUNE).execute(Tuple.of(keep)).mapEmpty();
  }

  /** Writes item vectors (rows of {@code vectors}, {@code dim} wide) in chunks, one transaction. */
  public Future<Void> saveVectors(long modelId, long[] itemIds, float[] itemVectors, long[] userIds,
      float[] userVectors, long[][] topItems, int dim) {
    return pg.withTransaction(tx -> {
      Future<Void> done = Future.succeededFuture();
      for (int from = 0; from < itemIds.length; from += CHUNK) {
        int start = from;
        int end = Math.min(itemIds.length, from + CHUNK);
        done = done.compose(v -> {
          Long[] ids = new Long[end - start];
          Buffer[] vecs = new Buffer[end - start];
          for (int i = start; i < end; i++) {
            ids[i - start] = itemIds[i];
            vecs[i - start] = Buffer.buffer(Vectors.encode(itemVectors, i, dim));
          }
          return tx.preparedQuery(INSERT_ITEMS).execute(Tuple.of(modelId, ids, vecs)).mapEmpty();
        });
      }
      for (int from = 0; from < userIds.length; from += CHUNK) {
        int start = from;
        int end = Math.min(userIds.length, from + CHUNK);
        done = done.compose(v -> {
          Long[] ids = new Long[end - start];
          Buffer[] vecs = new Buffer[end - start];
          String[] tops = new String[end - start];
          for (int i = start; i < end; i++) {
            ids[i - start] = userIds[i];
            vecs[i - start] = Buffer.buffer(Vectors.encode(userVectors, i, dim));
            StringBuilder sb = new StringBuilder();
            for (long t : topItems[i]) {
              sb.append(sb.isEmpty() ? "" : ",").append(t);
            }
            tops[i - start] = sb.toString();
          }
          return tx.preparedQuery(INSERT_USERS).execute(Tuple.of(modelId, ids, vecs, tops)).mapEmpty();
        });
      }
      return done;
    });
  }

  /** Item ids ascending and their vectors. */
  public Future<List<Object[]>> itemVectors(long modelId) {
    return pg.preparedQuery(ITEM_VECTORS).execute(Tuple.of(modelId)).map(rs -> {
      List<Object[]> out = new ArrayList<>(rs.size());
      rs.forEach(r -> out.add(new Object[] {r.getLong(0), Vectors.decode(r.getBuffer(1))}));
      return out;
    });
  }

  /** The user's trained vector in a model and their strongest training items; null when the model has no row. */
  public Future<UserVectors.Stored> userVector(long modelId, long userId) {
    return pg.preparedQuery(USER_VECTOR).execute(Tuple.of(modelId, userId)).map(rs -> {
      if (rs.size() == 0) {
        return null;
      }
      Row r = rs.iterator().next();
      Long[] top = r.getArrayOfLongs(1);
      List<String> because = new ArrayList<>();
      if (top != null) {
        for (Long t : top) {
          because.add(Long.toString(t));
        }
      }
      return new UserVectors.Stored(null, Vectors.decode(r.getBuffer(0)), because);
    });
  }

  /** The events, and the quiz interests weighted by {@code quizWeight} (not read when it is 0). */
  public Future<TrainingData> trainingData(String[] types, Float[] weights, float quizWeight) {
    Future<TrainingData> events = trainingData(types, weights);
    if (quizWeight <= 0) {
      return events;
    }
    return events.compose(e -> pg.preparedQuery(INTEREST_DATA).execute().map(rs -> {
      int n = rs.size();
      long[] users = new long[n];
      String[] tags = new String[n];
      float[] strengths = new float[n];
      int i = 0;
      for (Row r : rs) {
        users[i] = r.getLong(0);
        tags[i] = r.getString(1);
        strengths[i] = r.getFloat(2) * quizWeight;
        i++;
      }
      return new TrainingData(e.userIds(), e.itemIds(), e.strengths(), users, tags, strengths);
    }));
  }

  /**
   * The summed events, read through a cursor {@link #TRAINING_CHUNK} rows at a time: a one-shot read of millions of
   * rows had the client decode them all in one go on an event loop (seconds blocked, seen in the feed benchmark).
   */
  public Future<TrainingData> trainingData(String[] types, Float[] weights) {
    Tuple args = Tuple.tuple().addArrayOfString(types).addArrayOfFloat(weights);
    return pg.withTransaction(tx -> tx.prepare(TRAINING_DATA).compose(ps -> {
      Cursor cursor = ps.cursor(args);
      Growing out = new Growing();
      return readAll(cursor, out).eventually(() -> cursor.close().eventually(ps::close)).map(v -> out.data());
    }));
  }

  static final int TRAINING_CHUNK = 50_000;

  private static Future<Void> readAll(Cursor cursor, Growing out) {
    return cursor.read(TRAINING_CHUNK).compose(rows -> {
      for (Row r : rows) {
        out.add(r.getLong(0), r.getLong(1), r.getFloat(2));
      }
      return cursor.hasMore() ? readAll(cursor, out) : Future.succeededFuture();
    });
  }

  /** Parallel primitive arrays that grow as chunks arrive. */
  private static final class Growing {
    long[] users = new long[1024];
    long[] items = new long[1024];
    float[] strengths = new float[1024];
    int n;

    void add(long user, long item, float strength) {
      if (n == users.length) {
        users = java.util.Arrays.copyOf(users, n * 2);
        items = java.util.Arrays.copyOf(items, n * 2);
        strengths = java.util.Arrays.copyOf(strengths, n * 2);
      }
      users[n] = user;
      items[n] = item;
      strengths[n++] = strength;
    }

    TrainingData data() {
      return new TrainingData(java.util.Arrays.copyOf(users, n), java.util.Arrays.copyOf(items, n),
          java.util.Arrays.copyOf(strengths, n));
    }
  }

  private static ModelRow first(RowSet<Row> rs) {
    if (rs.size() == 0) {
      return null;
    }
    Row r = rs.iterator().next();
    return new ModelRow(r.getLong("id"), r.getString("version"), r.getString("status"),
        (JsonObject) r.getJson("params"), r.getInteger("users"), r.getInteger("items"), r.getLong("nnz"),
        (JsonObject) r.getJson("metrics"), r.getString("error"), r.getOffsetDateTime("started_at"),
        r.getOffsetDateTime("trained_at"));
  }
}

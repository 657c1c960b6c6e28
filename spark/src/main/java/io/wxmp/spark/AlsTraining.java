package io.wxmp.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The feed's training on Spark: reads the summed, weighted events from PostgreSQL (JDBC, the same query as the
 * server's own trainer), fits MLlib's ALS with implicit preferences, and writes the item and user vectors (float32
 * little-endian, as {@code feed_item_vectors} and {@code feed_user_vectors} hold them) as a new model version. The
 * version becomes {@code serving} only once every vector is written; each server's refresh then swaps to it exactly as
 * to a version trained in-process (and on a cluster every ranking node loads it). {@code --dim} must equal the
 * servers' {@code WXMP_RANKING_DIM}.
 */
public final class AlsTraining {
  /** The server's default event weights (WXMP_FEED_EVENT_WEIGHTS), with a full refund cancelling its purchase. */
  public static final String DEFAULT_WEIGHTS = "click=1,like=2,share=2,dwell=1,complete=3,purchase=5,refund=-5";
  static final int TOP_ITEMS = 20;

  /**
   * @param jdbcUrl        {@code jdbc:postgresql://host:port/db}
   * @param weights        confidence per event type, {@code type=weight,...}
   * @param regularization ALS {@code regParam} (λ)
   * @param alpha          ALS {@code alpha}: confidence = 1 + alpha × strength
   */
  public record Params(String jdbcUrl, String user, String password, int dim, int epochs, double regularization,
      double alpha, long seed, String weights) {}

  /** What a run wrote. */
  public record Result(long modelId, String version, int users, int items, long nnz, double trainSeconds) {}

  private AlsTraining() {}

  /** {@code --jdbc URL --user U --password P [--dim 64] [--epochs 16] [--reg 0.05] [--alpha 10] [--seed 42]} */
  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
      }
      a.put(args[i].substring(2), args[i + 1]);
    }
    if (!a.containsKey("jdbc")) {
      System.err.println("usage: AlsTraining --jdbc jdbc:postgresql://host:5432/db --user U --password P "
          + "[--dim 64] [--epochs 16] [--reg 0.05] [--alpha 10] [--seed 42] [--weights " + DEFAULT_WEIGHTS + "]"
          + " [--master local[*]]");
      System.exit(2);
    }
    Params p = new Params(a.get("jdbc"), a.getOrDefault("user", "postgres"), a.getOrDefault("password", ""),
        Integer.parseInt(a.getOrDefault("dim", "64")), Integer.parseInt(a.getOrDefault("epochs", "16")),
        Double.parseDouble(a.getOrDefault("reg", "0.05")), Double.parseDouble(a.getOrDefault("alpha", "10")),
        Long.parseLong(a.getOrDefault("seed", "42")), a.getOrDefault("weights", DEFAULT_WEIGHTS));
    SparkSession.Builder builder = SparkSession.builder().appName("wxmp-feed-als");
    if (a.containsKey("master")) {
      builder.master(a.get("master"));
    }
    try (SparkSession spark = builder.getOrCreate()) {
      Result r = run(spark, p);
      System.out.printf(Locale.ROOT, "feed model %s written and serving: %d users, %d items, %d interactions, "
          + "trained in %.1f s%n", r.version(), r.users(), r.items(), r.nnz(), r.trainSeconds());
    }
  }

  /** One training run on {@code spark}; the new version is serving when this returns. */
  public static Result run(SparkSession spark, Params p) throws SQLException {
    long started = System.nanoTime();
    Properties jdbc = new Properties();
    jdbc.setProperty("user", p.user());
    jdbc.setProperty("password", p.password());
    jdbc.setProperty("driver", "org.postgresql.Driver");
    Dataset<Row> events = spark.read().format("jdbc").option("url", p.jdbcUrl()).option("user", p.user())
        .option("password", p.password()).option("driver", "org.postgresql.Driver")
        .option("query", trainingQuery(p.weights())).load();
    Row maxIds = events.agg(max("user_id"), max("item_id")).first();
    if (!maxIds.isNullAt(0) && (maxIds.getLong(0) > Integer.MAX_VALUE || maxIds.getLong(1) > Integer.MAX_VALUE)) {
      throw new IllegalStateException("ALS takes int ids; a user or item id is above " + Integer.MAX_VALUE);
    }
    Dataset<Row> ratings = events.select(col("user_id").cast("int").as("user"),
        col("item_id").cast("int").as("item"), col("strength").cast("float").as("rating")).cache();
    long nnz = ratings.count();
    if (nnz == 0) {
      throw new IllegalStateException("no events to train on");
    }

    long modelId;
    String version;
    try (Connection c = DriverManager.getConnection(p.jdbcUrl(), jdbc)) {
      try (PreparedStatement s = c.prepareStatement("""
          WITH n AS (SELECT nextval('feed_models_id_seq') AS id)
          INSERT INTO feed_models (id, version, params) SELECT id, 'v' || id, ?::jsonb FROM n RETURNING id, version""")) {
        s.setString(1, paramsJson(p));
        try (ResultSet rs = s.executeQuery()) {
          rs.next();
          modelId = rs.getLong(1);
          version = rs.getString(2);
        }
      }
    }
    try {
      ALSModel model = new ALS().setImplicitPrefs(true).setRank(p.dim()).setMaxIter(p.epochs())
          .setRegParam(p.regularization()).setAlpha(p.alpha()).setSeed(p.seed())
          .setUserCol("user").setItemCol("item").setRatingCol("rating").fit(ratings);
      double trainSeconds = (System.nanoTime() - started) / 1e9;

      StructType itemSchema = new StructType().add("model_id", DataTypes.LongType)
          .add("item_id", DataTypes.LongType).add("vector", DataTypes.BinaryType);
      JavaRDD<Row> items = model.itemFactors().javaRDD()
          .map(r -> RowFactory.create(modelId, (long) r.getInt(0), encode(r.getList(1))));
      Dataset<Row> itemRows = spark.createDataFrame(items, itemSchema).cache();
      int itemCount = (int) itemRows.count();
      itemRows.write().mode(SaveMode.Append).jdbc(p.jdbcUrl(), "feed_item_vectors", jdbc);

      // the "because of" of a similar entry: each user's strongest training items
      Dataset<Row> top = ratings.groupBy("user")
          .agg(sort_array(collect_list(struct(col("rating"), col("item"))), false).as("top"));
      StructType userSchema = new StructType().add("model_id", DataTypes.LongType)
          .add("user_id", DataTypes.LongType).add("vector", DataTypes.BinaryType)
          .add("top_items", DataTypes.createArrayType(DataTypes.LongType));
      JavaRDD<Row> users = model.userFactors().join(top, model.userFactors().col("id").equalTo(top.col("user")))
          .javaRDD().map(r -> {
            List<Row> strongest = r.getList(r.fieldIndex("top"));
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < Math.min(TOP_ITEMS, strongest.size()); i++) {
              ids.add((long) strongest.get(i).getInt(1));
            }
            return RowFactory.create(modelId, (long) r.getInt(r.fieldIndex("id")),
                encode(r.getList(r.fieldIndex("features"))), ids.toArray(new Long[0]));
          });
      Dataset<Row> userRows = spark.createDataFrame(users, userSchema).cache();
      int userCount = (int) userRows.count();
      userRows.write().mode(SaveMode.Append).jdbc(p.jdbcUrl(), "feed_user_vectors", jdbc);

      try (Connection c = DriverManager.getConnection(p.jdbcUrl(), jdbc);
           PreparedStatement s = c.prepareStatement("""
               UPDATE feed_models SET status = 'serving', users = ?, items = ?, nnz = ?, metrics = ?::jsonb,
                                      trained_at = now()
               WHERE id = ? AND status = 'training'""")) {
        s.setInt(1, userCount);
        s.setInt(2, itemCount);
        s.setLong(3, nnz);
        s.setString(4, String.format(Locale.ROOT, "{\"trainer\":\"spark-als\",\"trainSeconds\":%.3f,"
            + "\"sparkMaster\":\"%s\"}", trainSeconds, spark.sparkContext().master()));
        s.setLong(5, modelId);
        if (s.executeUpdate() != 1) {
          throw new IllegalStateException(version + " is no longer training (marked failed by a server?)");
        }
      }
      return new Result(modelId, version, userCount, itemCount, nnz, trainSeconds);
    } catch (RuntimeException | SQLException e) {
      try (Connection c = DriverManager.getConnection(p.jdbcUrl(), jdbc);
           PreparedStatement s = c.prepareStatement(
               "UPDATE feed_models SET status = 'failed', error = ? WHERE id = ? AND status = 'training'")) {
        String error = "spark: " + e;
        s.setString(1, error.length() > 500 ? error.substring(0, 500) : error);
        s.setLong(2, modelId);
        s.executeUpdate();
      }
      throw e;
    } finally {
      ratings.unpersist();
    }
  }

  /**
   * The server's training query (ModelStore.TRAINING_DATA) with the weights inlined: summed confidence per (user,
   * item), positive sums only, of items and users that still exist.
   */
  static String trainingQuery(String weights) {
    StringBuilder values = new StringBuilder();
    for (String pair : weights.split(",")) {
      String[] kv = pair.trim().split("=");
      if (kv.length != 2 || !kv[0].matches("[a-z_]{1,32}")) {
        throw new IllegalArgumentException("weights: '" + pair + "' is not type=number");
      }
      double w = Double.parseDouble(kv[1]);
      if (w != 0) {
        values.append(values.isEmpty() ? "" : ", ").append("('").append(kv[0]).append("', ")
            .append(String.format(Locale.ROOT, "%s", w)).append("::real)");
      }
    }
    return """
        SELECT e.user_id, e.item_id, sum(w.weight)::real AS strength
        FROM events e JOIN (VALUES %s) AS w(type, weight) ON w.type = e.type
        WHERE EXISTS (SELECT 1 FROM items i WHERE i.id = e.item_id)
          AND EXISTS (SELECT 1 FROM users u WHERE u.id = e.user_id)
        GROUP BY e.user_id, e.item_id HAVING sum(w.weight) > 0""".formatted(values);
  }

  /**
   * The version's params as the servers read them (FeedTrainer.params): Spark's implicit ALS weighs unobserved pairs
   * 1 and observed ones 1 + alpha × strength, which is the servers' fold-in with unobservedWeight 1 and confidence
   * scale alpha.
   */
  static String paramsJson(Params p) {
    return String.format(Locale.ROOT, "{\"algorithm\":\"spark-als\",\"dim\":%d,\"epochs\":%d,\"unobservedWeight\":1.0,"
        + "\"regularization\":%s,\"confidenceScale\":%s,\"seed\":%d,\"threads\":1}", p.dim(), p.epochs(),
        p.regularization(), p.alpha(), p.seed());
  }

  static byte[] encode(List<Object> features) {
    ByteBuffer b = ByteBuffer.allocate(features.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (Object x : features) {
      b.putFloat(((Number) x).floatValue());
    }
    return b.array();
  }
}

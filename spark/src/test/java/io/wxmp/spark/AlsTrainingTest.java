package io.wxmp.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Spark job in local mode against a real PostgreSQL with the project's migrations: 4 clusters of 30 items, 200
 * users who each clicked 12 items of one cluster (and bought one, refunded another: the refund cancels it). The
 * version it writes is serving, in the servers' format, and ranks each user's own cluster first.
 */
class AlsTrainingTest {
  static EmbeddedPostgres pg;
  static String url;
  static final Map<Long, Integer> clusterOf = new HashMap<>();
  static final Map<Long, Integer> userCluster = new HashMap<>();

  @BeforeAll
  static void plant() throws Exception {
    pg = EmbeddedPostgres.builder().setOutputRedirector(ProcessBuilder.Redirect.DISCARD)
        .setErrorRedirector(ProcessBuilder.Redirect.DISCARD).start();
    url = pg.getJdbcUrl("postgres", "postgres");
    Flyway.configure().dataSource(pg.getPostgresDatabase()).locations("classpath:db/migration").outOfOrder(true)
        .load().migrate();
    try (Connection c = pg.getPostgresDatabase().getConnection()) {
      long merchant = one(c, "INSERT INTO merchants (name) VALUES ('Spark shop') RETURNING id");
      List<List<Long>> items = new ArrayList<>();
      for (int k = 0; k < 4; k++) {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
          long id = one(c, "INSERT INTO items (merchant_id, kind, title, summary, tags, status) VALUES (" + merchant
              + ", 'article', 'Item " + k + "-" + i + "', 's', '{c" + k + "}', 'published') RETURNING id");
          ids.add(id);
          clusterOf.put(id, k);
        }
        items.add(ids);
      }
      Random random = new Random(5);
      try (PreparedStatement e = c.prepareStatement(
          "INSERT INTO events (user_id, item_id, type, at) VALUES (?, ?, ?, now())")) {
        for (int u = 0; u < 200; u++) {
          long user = one(c, "INSERT INTO users (openid) VALUES ('spark-" + u + "') RETURNING id");
          userCluster.put(user, u % 4);
          Set<Long> picked = new HashSet<>();
          while (picked.size() < 12) {
            picked.add(items.get(u % 4).get(random.nextInt(30)));
          }
          for (long item : picked) {
            add(e, user, item, "click");
          }
          long refunded = items.get((u + 1) % 4).get(random.nextInt(30));
          add(e, user, refunded, "purchase");
          add(e, user, refunded, "refund");
        }
        e.executeBatch();
      }
    }
  }

  @AfterAll
  static void stop() throws Exception {
    pg.close();
  }

  @Test
  void writesAServingVersionThatRanksEachUsersOwnClusterFirst() throws Exception {
    AlsTraining.Result r;
    try (SparkSession spark = SparkSession.builder().master("local[2]").appName("wxmp-als-test")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate()) {
      r = AlsTraining.run(spark, new AlsTraining.Params(url, "postgres", "postgres", 16, 10, 0.05, 10, 42,
          AlsTraining.DEFAULT_WEIGHTS));
    }
    assertThat(r.users()).isEqualTo(200);
    assertThat(r.items()).isEqualTo(120);
    assertThat(r.nnz()).as("the refunded purchases cancel out").isEqualTo(200 * 12);

    Map<Long, float[]> items = new HashMap<>();
    Map<Long, float[]> users = new HashMap<>();
    Map<Long, Long[]> tops = new HashMap<>();
    try (Connection c = pg.getPostgresDatabase().getConnection()) {
      try (ResultSet rs = c.createStatement().executeQuery(
          "SELECT id, version, status, params->>'algorithm', (params->>'dim')::int, users, items FROM feed_models "
              + "WHERE status = 'serving' ORDER BY id DESC LIMIT 1")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getLong(1)).isEqualTo(r.modelId());
        assertThat(rs.getString(2)).isEqualTo(r.version());
        assertThat(rs.getString(4)).isEqualTo("spark-als");
        assertThat(rs.getInt(5)).isEqualTo(16);
        assertThat(rs.getInt(6)).isEqualTo(200);
        assertThat(rs.getInt(7)).isEqualTo(120);
      }
      try (ResultSet rs = c.createStatement().executeQuery(
          "SELECT item_id, vector FROM feed_item_vectors WHERE model_id = " + r.modelId())) {
        while (rs.next()) {
          items.put(rs.getLong(1), decode(rs.getBytes(2)));
        }
      }
      try (ResultSet rs = c.createStatement().executeQuery(
          "SELECT user_id, vector, top_items FROM feed_user_vectors WHERE model_id = " + r.modelId())) {
        while (rs.next()) {
          users.put(rs.getLong(1), decode(rs.getBytes(2)));
          Array a = rs.getArray(3);
          tops.put(rs.getLong(1), (Long[]) a.getArray());
        }
      }
    }
    assertThat(items).hasSize(120).allSatisfy((id, v) -> assertThat(v).hasSize(16));
    assertThat(users).hasSize(200);
    int ownClusterFirst = 0;
    for (Map.Entry<Long, float[]> u : users.entrySet()) {
      int cluster = userCluster.get(u.getKey());
      long best = items.entrySet().stream()
          .max((a, b) -> Float.compare(dot(u.getValue(), a.getValue()), dot(u.getValue(), b.getValue())))
          .orElseThrow().getKey();
      if (clusterOf.get(best) == cluster) {
        ownClusterFirst++;
      }
      assertThat(tops.get(u.getKey())).hasSize(12).allSatisfy(t -> assertThat(clusterOf.get(t)).isEqualTo(cluster));
    }
    assertThat(ownClusterFirst).isGreaterThanOrEqualTo(190);
  }

  static long one(Connection c, String sql) throws Exception {
    try (ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static void add(PreparedStatement e, long user, long item, String type) throws Exception {
    e.setLong(1, user);
    e.setLong(2, item);
    e.setString(3, type);
    e.addBatch();
  }

  static float[] decode(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    float[] v = new float[bytes.length / 4];
    for (int i = 0; i < v.length; i++) {
      v[i] = b.getFloat();
    }
    return v;
  }

  static float dot(float[] a, float[] b) {
    float s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}

package io.wxmp.server;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import io.wxmp.handlers.feed.Feed;
import io.wxmp.handlers.feed.ModelStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Dev mode's demo feed: four topics of demo items (the quiz's tea and culture tags among them), generated activity of
 * {@link #USERS} synthetic users who each mostly read one topic, and a model trained from it at start-up, so the demo
 * feed is personal from the first request (click two items of a topic and the next page leans to it). Items, users and
 * events are added once; the model is trained when none serves yet. The generator is seeded: every fresh data folder
 * gets the same activity.
 */
final class DemoFeed {
  static final int USERS = 160;
  static final String USER_PREFIX = "demo-synthetic-";
  private static final String[][] TOPICS = {
      {"tea", "culture", "龙井的采摘与炒制", "普洱茶的年份", "白茶入门", "乌龙茶的焙火", "茶具的选择", "工夫茶的冲泡",
          "茶马古道的故事", "宋代点茶"},
      {"backend", "vertx", "Event loops explained", "Futures without callbacks", "PostgreSQL connection pools",
          "Redis Lua scripts", "Exactly-once payments", "Back-pressure in practice", "Graceful shutdown",
          "Reactive SQL clients"},
      {"finance", "investing", "Index funds for beginners", "Reading a balance sheet", "Compound interest",
          "Bond ladders", "Rebalancing a portfolio", "Emergency funds", "Tax-advantaged accounts", "Inflation basics"},
      {"fitness", "health", "A 20-minute workout", "Stretching after running", "Protein and recovery",
          "Sleep and training", "Beginner strength plan", "Walking 10,000 steps", "Mobility for desk workers",
          "Hydration myths"}};

  private DemoFeed() {}

  record Trained(String version, int users, int items) {}

  static Future<Trained> seed(Pool pg, Feed feed, long merchantId) {
    return pg.preparedQuery("SELECT count(*) FROM items WHERE merchant_id = $1 AND $2 = ANY (tags)")
        .execute(Tuple.of(merchantId, TOPICS[0][0]))
        .compose(rows -> rows.iterator().next().getLong(0) > 0 ? Future.succeededFuture() : insertItems(pg, merchantId))
        .compose(v -> pg.preparedQuery("SELECT count(*) FROM users WHERE openid LIKE $1")
            .execute(Tuple.of(USER_PREFIX + "%")))
        .compose(rows -> rows.iterator().next().getLong(0) > 0 ? Future.succeededFuture() : activity(pg, merchantId))
        .compose(v -> feed.refresh())
        .compose(v -> feed.store().newestServing())
        .compose(row -> row != null ? Future.succeededFuture(row) : feed.trainer().trainIfIdle())
        .map((ModelStore.ModelRow row) -> row == null ? null
            : new Trained(row.version(), row.users() == null ? 0 : row.users(), row.items() == null ? 0 : row.items()));
  }

  private static Future<Void> insertItems(Pool pg, long merchantId) {
    List<Tuple> rows = new ArrayList<>();
    for (String[] topic : TOPICS) {
      for (int k = 2; k < topic.length; k++) {
        Long price = k % 3 == 0 ? 100L * k : null;
        rows.add(Tuple.of(merchantId, topic[k], "Demo " + topic[0] + " item " + (k - 1),
            new String[] {topic[0], topic[1]}, price));
      }
    }
    return pg.preparedQuery("""
            INSERT INTO items (merchant_id, kind, title, summary, tags, price_fen, status, body, preview)
            VALUES ($1, 'article', $2, $3, $4, $5, 'published', 'The demo text.', 'The first lines, for free.')""")
        .executeBatch(rows).mapEmpty();
  }

  /** Each synthetic user clicks 6..9 items of one topic and one elsewhere; some likes and completes. */
  private static Future<Void> activity(Pool pg, long merchantId) {
    return pg.preparedQuery("SELECT id, tags[1] FROM items WHERE merchant_id = $1 AND status = 'published' ORDER BY id")
        .execute(Tuple.of(merchantId)).compose(items -> {
          List<List<Long>> byTopic = new ArrayList<>();
          for (int t = 0; t < TOPICS.length; t++) {
            byTopic.add(new ArrayList<>());
          }
          items.forEach(r -> {
            for (int t = 0; t < TOPICS.length; t++) {
              if (TOPICS[t][0].equals(r.getString(1))) {
                byTopic.get(t).add(r.getLong(0));
              }
            }
          });
          List<Tuple> users = new ArrayList<>();
          for (int u = 0; u < USERS; u++) {
            users.add(Tuple.of(USER_PREFIX + u, "Demo reader " + u));
          }
          return pg.preparedQuery("INSERT INTO users (openid, nickname) VALUES ($1, $2) RETURNING id")
              .executeBatch(users).compose(inserted -> {
                Random random = new Random(42);
                List<Tuple> events = new ArrayList<>();
                int u = 0;
                for (var rs = inserted; rs != null; rs = rs.next()) {
                  long userId = rs.iterator().next().getLong(0);
                  List<Long> mine = byTopic.get(u++ % TOPICS.length);
                  Set<Long> picked = new HashSet<>();
                  int n = 6 + random.nextInt(4);
                  while (picked.size() < Math.min(n, mine.size())) {
                    picked.add(mine.get(random.nextInt(mine.size())));
                  }
                  List<Long> other = byTopic.get(random.nextInt(TOPICS.length));
                  picked.add(other.get(random.nextInt(other.size())));
                  for (long item : picked) {
                    String type = switch (random.nextInt(6)) {
                      case 0 -> "like";
                      case 1 -> "complete";
                      default -> "click";
                    };
                    events.add(Tuple.of(userId, item, type, random.nextInt(7 * 24)));
                  }
                }
                return pg.preparedQuery("""
                        INSERT INTO events (user_id, item_id, type, at)
                        VALUES ($1, $2, $3, now() - make_interval(hours => $4))""")
                    .executeBatch(events).mapEmpty();
              });
        });
  }
}

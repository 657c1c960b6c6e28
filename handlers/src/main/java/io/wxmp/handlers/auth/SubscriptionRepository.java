package io.wxmp.handlers.auth;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** SQL for subscribe message consents: one row per acceptance in {@code wx.requestSubscribeMessage}. */
public final class SubscriptionRepository {
  /** At most this many unused consents per user and template are kept (WeChat's own limit is per acceptance). */
  static final int MAX_UNUSED = 20;
  private static final String ADD = """
      INSERT INTO subscribe_consents (user_id, template_id)
      SELECT $1, $2 WHERE (SELECT count(*) FROM subscribe_consents
                           WHERE user_id = $1 AND template_id = $2 AND used_at IS NULL) < $3""";
  private static final String UNUSED = """
      SELECT template_id, count(*) FROM subscribe_consents WHERE user_id = $1 AND used_at IS NULL GROUP BY template_id""";

  private final Pool pg;

  public SubscriptionRepository(Pool pg) {
    this.pg = pg;
  }

  public Future<Void> accept(long userId, List<String> templateIds) {
    return pg.withTransaction(tx -> {
      Future<Void> chain = Future.succeededFuture();
      for (String t : templateIds) {
        chain = chain.compose(v -> tx.preparedQuery(ADD).execute(Tuple.of(userId, t, MAX_UNUSED)).mapEmpty());
      }
      return chain;
    });
  }

  public Future<Map<String, Long>> unused(long userId) {
    return pg.preparedQuery(UNUSED).execute(Tuple.of(userId)).map(rows -> {
      Map<String, Long> out = new HashMap<>();
      rows.forEach(r -> out.put(r.getString(0), r.getLong(1)));
      return out;
    });
  }
}

package io.wxmp.handlers.common;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.Map;
import java.util.Objects;

/**
 * The audit log of every write by a merchant account or an operator: who (account id and username), when, the request
 * id, the action ({@code item.create}, {@code campaign.update}, ...), the target and what changed. Record it with the
 * transaction's client, inside the write's own transaction, so the entry commits exactly when the write does:
 *
 * <pre>{@code
 * Audit.Who who = Audit.who(ctx);                 // in the handler, from the request
 * pg.withTransaction(tx -> repo.update(tx, ...)
 *     .compose(row -> Audit.record(tx, who, "campaign.update", "campaign", row.id(), Audit.diff(before, after))
 *         .map(row)));
 * }</pre>
 *
 * Merchant owners read their merchant's entries with {@code GET /admin/audit}.
 */
public final class Audit {
  private static final int MAX_TEXT = 500;
  private static final String INSERT = """
      INSERT INTO audit_log (merchant_id, actor_kind, actor_id, actor_username, request_id, action, target_type,
                             target_id, changes)
      VALUES ($1, $2, $3,
              COALESCE(CASE $2 WHEN 'merchant_account' THEN (SELECT username FROM merchant_accounts WHERE id = $3)
                                 ELSE (SELECT username FROM operators WHERE id = $3) END, '?'),
              $4, $5, $6, $7, $8)""";

  private Audit() {}

  /**
   * Who is writing: a merchant account (its merchant is the scope) or an operator ({@link #forMerchant} names the
   * merchant an operator's write is about), and the request id.
   */
  public record Who(String actorKind, long actorId, Long merchantId, String requestId) {
    public static Who merchant(MerchantPrincipal m, String requestId) {
      return new Who("merchant_account", m.accountId(), m.merchantId(), requestId);
    }

    public static Who operator(OperatorPrincipal o, String requestId) {
      return new Who("operator", o.operatorId(), null, requestId);
    }

    /** The same writer, about another merchant (an operator suspending one). */
    public Who forMerchant(Long merchantId) {
      return new Who(actorKind, actorId, merchantId, requestId);
    }
  }

  /** The writer behind this request: its merchant account or operator (401 when neither). */
  public static Who who(RoutingContext ctx) {
    MerchantPrincipal merchant = Authenticate.merchantOrNull(ctx);
    if (merchant != null) {
      return Who.merchant(merchant, RequestIds.of(ctx));
    }
    return Who.operator(Authenticate.operator(ctx), RequestIds.of(ctx));
  }

  /** Writes one entry with the transaction's client; {@code changes} null means none. */
  public static Future<Void> record(SqlClient tx, Who who, String action, String targetType, Object targetId,
      JsonObject changes) {
    return tx.preparedQuery(INSERT).execute(Tuple.tuple().addValue(who.merchantId()).addValue(who.actorKind())
            .addValue(who.actorId()).addValue(who.requestId()).addValue(action).addValue(targetType)
            .addValue(targetId == null ? null : targetId.toString())
            .addValue(changes == null ? new JsonObject() : trimmed(changes)))
        .mapEmpty();
  }

  /**
   * What changed between two JSON views of a thing: {@code {"field": {"from": x, "to": y}}} for each field that
   * differs ({@code before} null: every field of {@code after}, as {@code to}).
   */
  public static JsonObject diff(JsonObject before, JsonObject after) {
    JsonObject out = new JsonObject();
    for (Map.Entry<String, Object> e : after) {
      Object old = before == null ? null : before.getValue(e.getKey());
      if (before == null || !Objects.equals(old, e.getValue())) {
        JsonObject change = new JsonObject();
        if (before != null) {
          change.put("from", old);
        }
        out.put(e.getKey(), change.put("to", e.getValue()));
      }
    }
    if (before != null) {
      for (Map.Entry<String, Object> e : before) {
        if (!after.containsKey(e.getKey())) {
          out.put(e.getKey(), new JsonObject().put("from", e.getValue()).put("to", null));
        }
      }
    }
    return out;
  }

  /** Long texts (an item's body) are cut, so an entry says that a text changed without copying it whole. */
  private static JsonObject trimmed(JsonObject changes) {
    JsonObject out = new JsonObject();
    changes.forEach(e -> out.put(e.getKey(), trim(e.getValue())));
    return out;
  }

  private static Object trim(Object value) {
    if (value instanceof String s && s.length() > MAX_TEXT) {
      return s.substring(0, MAX_TEXT) + "… (" + s.length() + " characters)";
    }
    if (value instanceof JsonObject o) {
      return trimmed(o);
    }
    if (value instanceof JsonArray a) {
      JsonArray out = new JsonArray();
      a.forEach(v -> out.add(trim(v)));
      return out;
    }
    return value;
  }
}

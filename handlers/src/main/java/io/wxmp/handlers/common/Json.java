package io.wxmp.handlers.common;

import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The shapes API.md fixes everywhere: money in fen, times as ISO-8601 with an offset, ids as strings. */
public final class Json {
  private Json() {}

  public static JsonObject money(Long fen) {
    return fen == null ? null : new JsonObject().put("amount", fen).put("currency", "CNY");
  }

  public static String time(OffsetDateTime time) {
    return time == null ? null : time.withOffsetSameInstant(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
  }

  public static String id(Long id) {
    return id == null ? null : Long.toString(id);
  }
}

package io.wxmp.handlers.events;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.wxmp.handlers.common.Authenticate;
import io.wxmp.handlers.common.Deps;
import io.wxmp.handlers.common.Input;
import io.wxmp.handlers.common.Respond;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code POST /events}: the mini-program's behaviour events in batches of 1..100, validated as a whole (a 400 names
 * each wrong field by index, {@code events[3].type}, and stores nothing), answered 202 with how many were new and
 * how many repeated an id. The rules live in {@link EventService}.
 */
public final class EventRoutes {
  public static final List<String> CLIENT_TYPES = List.of("impression", "click", "like", "share", "dwell", "complete");
  public static final int MAX_BATCH = 100;
  /** How far ahead of the server's clock an event may be (phones' clocks drift), and how old. */
  static final Duration MAX_AHEAD = Duration.ofMinutes(5);
  static final Duration MAX_AGE = Duration.ofDays(7);
  static final long MAX_DWELL_MS = 86_400_000L;
  /** Client ids: a UUID, a ULID, a counter... Server-side keys start with '~' and so never collide with them. */
  static final Pattern CLIENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");
  static final int MAX_TOKEN = 1024;

  private final EventService service;

  private EventRoutes(EventService service) {
    this.service = service;
  }

  /** Routes relative to {@code /api/v1}. */
  public static Router create(Deps deps, EventService service) {
    EventRoutes routes = new EventRoutes(service);
    Router router = Router.router(deps.vertx());
    router.route("/events").handler(Authenticate.users(deps.sessions()));
    router.post("/events").handler(Respond.status(202, routes::post));
    return router;
  }

  Future<JsonObject> post(RoutingContext ctx) {
    long userId = Authenticate.user(ctx).userId();
    // the limit counts every request, a malformed one too, and is asked while the batch is checked
    Future<Void> admitted = service.admit(userId);
    List<EventService.Incoming> batch;
    try {
      batch = parse(ctx, userId);
    } catch (RuntimeException invalid) {
      return admitted.compose(v -> Future.failedFuture(invalid));
    }
    return service.ingest(userId, batch, admitted)
        .map(outcome -> new JsonObject().put("accepted", outcome.accepted()).put("duplicates", outcome.duplicates()));
  }

  /** Every shape rule of API.md's Event; throws a 400 naming each wrong field. */
  static List<EventService.Incoming> parse(RoutingContext ctx, long userId) {
    Input in = Input.of(ctx);
    JsonArray events = in.array("events", 1, MAX_BATCH, true);
    List<EventService.Incoming> out = new ArrayList<>();
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    for (int i = 0; events != null && i < events.size(); i++) {
      String path = "events[" + i + "]";
      if (!(events.getValue(i) instanceof JsonObject o)) {
        in.error(path, "must be an object");
        continue;
      }
      Input e = Input.of(o);
      String clientId = null;
      if (o.containsKey("id") && o.getValue("id") != null) {
        clientId = o.getValue("id") instanceof String s && CLIENT_ID.matcher(s).matches() ? s : null;
        e.check(clientId != null, "id", "must be 1..64 characters of A-Z a-z 0-9 . _ : - starting with a letter or digit");
      }
      Long itemId = e.id("itemId", true);
      String type = e.oneOf("type", CLIENT_TYPES, true);
      OffsetDateTime at = e.time("at", false);
      if (at != null) {
        e.check(!at.isAfter(now.plus(MAX_AHEAD)), "at", "must not be more than 5 minutes in the future");
        e.check(!at.isBefore(now.minus(MAX_AGE)), "at", "must not be more than 7 days old");
      }
      Long dwell = e.integer("dwellMs", 0, MAX_DWELL_MS, "dwell".equals(type));
      String token = null;
      if (o.getValue("token") != null) {
        token = o.getValue("token") instanceof String s && !s.isEmpty() && s.length() <= MAX_TOKEN ? s : null;
        e.check(token != null, "token", "must be the token string of a FeedItem");
      }
      Long ref = e.id("ref", false);
      if (ref != null) {
        e.check(ref != userId, "ref", "must be the id of another user (the one who shared the item)");
      }
      if (e.hasErrors()) {
        in.nest(path + ".", e);
        continue;
      }
      out.add(new EventService.Incoming(i, clientId, itemId, type, at == null ? now : at,
          dwell == null ? null : dwell.intValue(), token, ref));
    }
    in.validate();
    return out;
  }
}

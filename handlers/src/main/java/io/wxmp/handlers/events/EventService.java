package io.wxmp.handlers.events;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.Json;
import io.wxmp.handlers.common.RateLimiter;
import io.wxmp.handlers.events.EventRepository.NewEvent;
import io.wxmp.handlers.feed.FeedToken;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rules of event ingestion: the per-user rate limit, the checks that need the database (known items and users),
 * client-id dedup, which tokens count, then the online state and the listeners once the batch is stored. Server-side
 * events (purchases) come in through {@link #recordServerEvents}.
 */
public final class EventService {
  private static final Logger log = LoggerFactory.getLogger(EventService.class);

  /** One event as the client sent it, already checked for shape; {@code index} is its place in the batch. */
  public record Incoming(int index, String clientId, long itemId, String type, OffsetDateTime at, Integer dwellMs,
      String token, Long refUserId) {}

  /** What a batch did: new events stored and repeated ids. */
  public record Outcome(int accepted, int duplicates) {}

  private final EventRepository repository;
  private final KnownItems items;
  private final OnlineState online;
  private final EventListener listeners;
  private final RateLimiter limiter;
  private final byte[] tokenKey;

  public EventService(io.vertx.core.Vertx vertx, EventRepository repository, OnlineState online,
      EventListener listeners, RateLimiter limiter, byte[] tokenKey) {
    this.repository = repository;
    this.items = new KnownItems(vertx, repository);
    this.online = online;
    this.listeners = listeners;
    this.limiter = limiter;
    this.tokenKey = tokenKey;
  }

  public OnlineState online() {
    return online;
  }

  /**
   * Where a batch's items are found without a database lookup: the tags of an item this server knows to be published
   * (the feed's catalogue copy), else null.
   */
  public void usePublishedItems(java.util.function.LongFunction<List<String>> tagsOfPublished) {
    items.usePublished(tagsOfPublished);
  }

  /** 429 with Retry-After when the user is over the rate limit. */
  public Future<Void> admit(long userId) {
    return limiter.acquire(Long.toString(userId));
  }

  /**
   * Stores a client batch as a whole (400 naming the index when an item or a sharing user is unknown) once
   * {@code admitted} (the rate limit, taken in parallel with the lookups) says yes.
   */
  public Future<Outcome> ingest(long userId, List<Incoming> batch, Future<Void> admitted) {
    Set<Long> itemIds = new HashSet<>();
    Set<Long> refs = new HashSet<>();
    for (Incoming e : batch) {
      itemIds.add(e.itemId());
      if (e.refUserId() != null) {
        refs.add(e.refUserId());
      }
    }
    Future<Map<Long, List<String>>> known = items.tags(itemIds);
    Future<Set<Long>> users = repository.knownUsers(refs);
    return admitted.compose(v -> Future.all(known, users)).compose(found -> {
      Map<Long, List<String>> itemTags = known.result();
      JsonObject fields = new JsonObject();
      for (Incoming e : batch) {
        if (!itemTags.containsKey(e.itemId())) {
          fields.put("events[" + e.index() + "].itemId", "is not a known item");
        }
        if (e.refUserId() != null && !users.result().contains(e.refUserId())) {
          fields.put("events[" + e.index() + "].ref", "is not a known user");
        }
      }
      if (!fields.isEmpty()) {
        return Future.failedFuture(ApiException.invalid(fields));
      }
      // A repeated id inside one batch is a duplicate too: only its first occurrence is stored.
      Set<String> seen = new HashSet<>();
      List<NewEvent> rows = new ArrayList<>(batch.size());
      List<Incoming> kept = new ArrayList<>(batch.size());
      for (Incoming e : batch) {
        if (e.clientId() != null && !seen.add(e.clientId())) {
          continue;
        }
        kept.add(e);
        rows.add(new NewEvent(e.clientId(), e.itemId(), e.type(), e.at(), e.dwellMs(), honoured(userId, e),
            e.refUserId()));
      }
      return store(userId, rows, itemTags).map(accepted -> new Outcome(accepted, batch.size() - accepted));
    });
  }

  /**
   * Events the server itself records (a purchase from the payment outbox), each with a server key ({@code ~...})
   * as its client id, so a redelivery stores nothing twice. Returns how many were new.
   */
  public Future<Integer> recordServerEvents(long userId, List<NewEvent> events) {
    Set<Long> itemIds = new HashSet<>();
    events.forEach(e -> itemIds.add(e.itemId()));
    return items.tags(itemIds).compose(tags -> store(userId, events, tags));
  }

  /** The token counts only when it verifies and was issued to this user for this item; else the event has none. */
  private FeedToken honoured(long userId, Incoming e) {
    if (e.token() == null) {
      return null;
    }
    FeedToken token = FeedToken.verify(e.token(), tokenKey);
    if (token == null || !Long.toString(userId).equals(token.userId())
        || !Long.toString(e.itemId()).equals(token.itemId())) {
      return null;
    }
    return token;
  }

  private Future<Integer> store(long userId, List<NewEvent> rows, Map<Long, List<String>> itemTags) {
    return repository.insert(userId, rows).compose(ids -> {
      String user = Long.toString(userId);
      List<OnlineState.Signal> signals = new ArrayList<>();
      List<EventListener.Accepted> accepted = new ArrayList<>();
      for (int i = 0; i < ids.length; i++) {
        if (ids[i] == null) {
          continue;
        }
        NewEvent e = rows.get(i);
        Instant at = e.at().toInstant();
        String item = Long.toString(e.itemId());
        signals.add(new OnlineState.Signal(ids[i], item, e.type(), at, itemTags.getOrDefault(e.itemId(), List.of())));
        accepted.add(new EventListener.Accepted(ids[i], user, item, e.type(), at, e.token(),
            e.refUserId() == null ? null : Json.id(e.refUserId())));
      }
      // Stored is stored: a Redis hiccup here leaves the online state a little behind, not the request failed
      // (the durable rows are what training reads). The fold-in's history comes back from the same script.
      boolean readHistory = listeners.wantsHistory()
          && accepted.stream().anyMatch(e -> !"impression".equals(e.type()));
      return online.record(user, signals, readHistory)
          .recover(failure -> {
            log.warn("online state of user {} not updated with {} events: {}", user, signals.size(),
                failure.toString());
            return Future.succeededFuture();
          })
          .compose(history -> listeners.onAccepted(user, accepted, history))
          .map(v -> accepted.size());
    });
  }
}

package io.wxmp.handlers.events;

import io.vertx.core.Future;
import io.wxmp.handlers.feed.FeedToken;
import java.time.Instant;
import java.util.List;

/**
 * Told about a user's new events after their batch is committed (the feed's fold-in, the campaigns' billing). Duplicates
 * are never passed on. A failing listener does not undo the batch; the events feature logs the failure.
 */
public interface EventListener {
  /**
   * One stored event.
   *
   * @param token the FeedToken the event carried, verified for this user and item; null when absent, forged or foreign
   * @param ref   the id of the user who shared the item (a share open), or null
   */
  record Accepted(long eventId, String userId, String itemId, String type, Instant at, FeedToken token, String ref) {}

  Future<Void> onAccepted(String userId, List<Accepted> events);

  /**
   * Whether this listener would read the user's history ({@link OnlineState#history}) after this batch: the events
   * feature then reads it in the Redis script that records the batch (one round trip fewer) and hands it over.
   */
  default boolean wantsHistory() {
    return false;
  }

  /** {@link #onAccepted(String, List)} with the history read as the batch was recorded (null when it was not read). */
  default Future<Void> onAccepted(String userId, List<Accepted> events, OnlineState.History history) {
    return onAccepted(userId, events);
  }
}

package io.wxmp.handlers.feed;

import io.vertx.core.Future;

/**
 * Which experiment arm a user is in, and so which {@link FeedParams} their pages use. The campaigns feature implements
 * it ({@code /platform/experiments*}); the feed calls it once per page and uses the defaults on a null arm or a
 * failure.
 */
public interface FeedExperiments {
  /** The user's arm of the running experiment. */
  record Arm(String experimentId, String arm, FeedParams params) {}

  /** The user's arm, or null when no experiment runs (then the feed uses {@link FeedParams#defaults()}). */
  Future<Arm> armFor(String userId);

  /** No experiments: everyone gets the defaults. */
  FeedExperiments NONE = userId -> Future.succeededFuture(null);
}

package io.wxmp.handlers.feed;

import java.time.Instant;
import java.util.List;

/** What the feed needs of a published item (no body): enough to rank, filter and render a FeedItem. */
public record CatalogueItem(long id, long merchantId, String kind, String title, String summary, String coverUrl,
    List<String> tags, Long priceFen, Instant createdAt) {}

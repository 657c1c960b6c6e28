package io.wxmp.handlers.feed;

import io.vertx.core.Future;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.ProfileCache;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A feed page's user state (personalised, joined, owned items, memberships): from the user's {@link ProfileCache}
 * hash, read with the page's session, else from PostgreSQL and stored there for the next page. Every writer of it
 * (PATCH /me, payment and refund settlements, erasure) already writes that hash. Memberships are kept with their
 * ends, so one that runs out stops counting when it does. A cache that cannot be read or holds something unreadable
 * is a miss.
 */
final class FeedUsers {
  private static final Logger log = LoggerFactory.getLogger(FeedUsers.class);

  private final FeedRepository repo;
  private final ProfileCache cache;

  FeedUsers(FeedRepository repo, ProfileCache cache) {
    this.repo = repo;
    this.cache = cache;
  }

  /** The user's state: {@code cached} when it holds one, else PostgreSQL's (401 when the user is gone). */
  Future<FeedRepository.UserState> user(long userId, Future<ProfileCache.Lookup> cached) {
    return cached.otherwise(new ProfileCache.Lookup(null, null)).compose(lookup -> {
      if (lookup.answer() != null) {
        FeedRepository.UserRow row = decode(lookup.answer());
        if (row != null) {
          return Future.succeededFuture(row.state(System.currentTimeMillis()));
        }
      }
      return repo.userRow(userId).map(row -> {
        if (row == null) {
          throw ApiException.unauthorized();
        }
        if (lookup.generation() != null) {
          cache.putFeed(userId, lookup.generation(), encode(row));
        }
        return row.state(System.currentTimeMillis());
      });
    });
  }

  /** {@code personalised|joinedMs|owned,ids|merchant:untilMs,...} */
  static String encode(FeedRepository.UserRow row) {
    StringBuilder b = new StringBuilder(32 + 12 * (row.owned().size() + 2 * row.memberUntilMs().size()));
    b.append(row.personalised() ? '1' : '0').append('|').append(row.joinedAt().toEpochMilli()).append('|');
    boolean first = true;
    for (Long id : row.owned()) {
      b.append(first ? "" : ",").append(id);
      first = false;
    }
    b.append('|');
    first = true;
    for (Map.Entry<Long, Long> m : row.memberUntilMs().entrySet()) {
      b.append(first ? "" : ",").append(m.getKey()).append(':').append(m.getValue());
      first = false;
    }
    return b.toString();
  }

  /** Null when {@code s} is not what {@link #encode} writes. */
  static FeedRepository.UserRow decode(String s) {
    try {
      String[] parts = s.split("\\|", -1);
      if (parts.length != 4 || !(parts[0].equals("1") || parts[0].equals("0"))) {
        return null;
      }
      Set<Long> owned = new HashSet<>();
      if (!parts[2].isEmpty()) {
        for (String id : parts[2].split(",")) {
          owned.add(Long.parseLong(id));
        }
      }
      Map<Long, Long> memberUntil = new HashMap<>();
      if (!parts[3].isEmpty()) {
        for (String m : parts[3].split(",")) {
          int colon = m.indexOf(':');
          memberUntil.put(Long.parseLong(m.substring(0, colon)), Long.parseLong(m.substring(colon + 1)));
        }
      }
      return new FeedRepository.UserRow(parts[0].equals("1"), Instant.ofEpochMilli(Long.parseLong(parts[1])), owned,
          memberUntil);
    } catch (RuntimeException e) {
      log.warn("unreadable feed user state in the profile cache, reading PostgreSQL: {}", e.toString());
      return null;
    }
  }
}

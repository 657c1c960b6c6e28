package io.wxmp.handlers.admin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.RedisAPI;
import io.wxmp.handlers.common.ClientAddresses;
import io.wxmp.handlers.common.RateLimiter;
import io.wxmp.handlers.common.Redis;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Password login tries, limited so that guessing is slow and an attacker cannot lock the owner out (OWASP's "device
 * cookies" scheme, on Bucket4j token buckets in Redis shared by every instance). Every try takes a token before its
 * password is checked, so concurrent guesses cannot all get past the check:
 * <ul>
 *   <li>from a browser that logged in to the account before (a device cookie, 30 days): only that device's own
 *       bucket for the account ({@code perAccountAddress} tries per window). Nothing anyone else does touches it.</li>
 *   <li>from anywhere else: the (account, client address) bucket (same size), the client address's bucket over all
 *       usernames ({@code perAddress}: made-up usernames are guesses too), and the account's bucket over every
 *       unknown client ({@code perAccount}, against guessing from many addresses).</li>
 * </ul>
 * So five wrong passwords from one address stop that address for that account; the owner on another address, or
 * with a device cookie anywhere, is not affected. A successful login clears its account-and-address (or device)
 * bucket and hands back the tokens it took from the shared ones: only failures use them up.
 */
public final class LoginGuard {
  /** Tries per window: per (account, address) or device, per address, per account from unknown clients. */
  public record Config(int perAccountAddress, int perAddress, int perAccount, Duration window) {
    public static final Config DEFAULTS = new Config(5, 30, 100, Duration.ofMinutes(15));
  }

  private static final Duration DEVICE_TTL = Duration.ofDays(30);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final RedisAPI redis;
  private final ClientAddresses clients;
  private final String realm;
  private final String cookieName;
  private final String cookiePath;
  private final RateLimiter pairs;
  private final RateLimiter addresses;
  private final RateLimiter accounts;

  /**
   * {@code realm} keeps merchants' and operators' logins apart; the device cookie is sent only to
   * {@code loginPath}.
   */
  public LoginGuard(Vertx vertx, RedisAPI redis, ClientAddresses clients, String realm, String loginPath,
      Config config) {
    this.redis = redis;
    this.clients = clients;
    this.realm = realm;
    this.cookieName = "wxmp_" + realm + "_device";
    this.cookiePath = loginPath;
    this.pairs = new RateLimiter(vertx, redis, realm + "-login-pair",
        new RateLimiter.Limit(config.perAccountAddress(), config.window()));
    this.addresses = new RateLimiter(vertx, redis, realm + "-login-address",
        new RateLimiter.Limit(config.perAddress(), config.window()));
    this.accounts = new RateLimiter(vertx, redis, realm + "-login-account",
        new RateLimiter.Limit(config.perAccount(), config.window()));
  }

  /** One try, counted before the password is checked; fails with 429 when a bucket it needs is empty. */
  public final class Attempt {
    private final RoutingContext ctx;
    private final String account;
    private final String pairKey;
    private final String address;
    private final boolean knownDevice;

    private Attempt(RoutingContext ctx, String account, String pairKey, String address, boolean knownDevice) {
      this.ctx = ctx;
      this.account = account;
      this.pairKey = pairKey;
      this.address = address;
      this.knownDevice = knownDevice;
    }

    /** The password was right: the try does not count, and this browser is known to the account from now on. */
    public Future<Void> succeeded() {
      Future<Void> returned = knownDevice ? pairs.reset(pairKey)
          : Future.all(pairs.reset(pairKey), addresses.refund(address), accounts.refund(account)).mapEmpty();
      return returned.compose(v -> rememberDevice(ctx, account));
    }
  }

  public Future<Attempt> begin(RoutingContext ctx, String username) {
    String account = username.strip().toLowerCase(Locale.ROOT);
    String address = clients.of(ctx);
    return knownDevice(ctx, account).compose(device -> {
      if (device != null) {
        String key = account + "|device:" + device;
        return pairs.acquire(key).map(v -> new Attempt(ctx, account, key, address, true));
      }
      String key = account + "|" + address;
      return addresses.acquire(address)
          .compose(v -> pairs.acquire(key))
          .compose(v -> accounts.acquire(account))
          .map(v -> new Attempt(ctx, account, key, address, false));
    });
  }

  /** The hash of this request's device cookie when Redis knows it for {@code account}; else null. */
  private Future<String> knownDevice(RoutingContext ctx, String account) {
    Cookie cookie = ctx.request().getCookie(cookieName);
    if (cookie == null || !cookie.getValue().matches("[0-9a-f]{64}")) {
      return Future.succeededFuture(null);
    }
    String hash = sha256(cookie.getValue());
    return Redis.bounded(redis.exists(List.of(deviceKey(account, hash))))
        .map(n -> n != null && n.toLong() > 0 ? hash : null);
  }

  private Future<Void> rememberDevice(RoutingContext ctx, String account) {
    Cookie existing = ctx.request().getCookie(cookieName);
    String value = existing != null && existing.getValue().matches("[0-9a-f]{64}") ? existing.getValue() : fresh();
    return Redis.bounded(redis.set(List.of(deviceKey(account, sha256(value)), "1", "EX",
            Long.toString(DEVICE_TTL.toSeconds()))))
        .map(v -> {
          ctx.response().addCookie(Cookie.cookie(cookieName, value).setPath(cookiePath).setHttpOnly(true)
              .setSameSite(CookieSameSite.STRICT).setMaxAge(DEVICE_TTL.toSeconds())
              .setSecure(ctx.request().isSSL() || "https".equalsIgnoreCase(ctx.request().getHeader("X-Forwarded-Proto"))));
          return null;
        });
  }

  private String deviceKey(String account, String hash) {
    return "wxmp:login-device:" + realm + ":" + account + ":" + hash;
  }

  private static String fresh() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  private static String sha256(String value) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

package io.wxmp.handlers.common;

import cn.binarywang.wx.miniapp.api.WxMaService;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.wxmp.gpu.RankingClient;
import io.wxmp.handlers.pay.WeChatPay;

/**
 * What the feature routers need, built once in the server's Main and passed in (no static singletons).
 *
 * @param wechat the WxJava mini-program service, pointed at WeChat or the sandbox; call it only through {@code upstream}
 * @param upstream the named, bounded worker pool for blocking SDK calls, with the upstream timeout
 * @param ranking the client of the ranking worker verticle (similarity top-k on the event bus)
 * @param pay the WeChat Pay settings and SDK services (call the services only through {@code upstream})
 * @param profiles the cache of {@code GET /me}'s answer; each writer of what it shows invalidates it after commit
 * @param limits client addresses, the password hashing pool, login and per-route rate limits
 */
public record Deps(
    Vertx vertx,
    Pool pg,
    RedisAPI redis,
    Sessions sessions,
    ProfileCache profiles,
    WxMaService wechat,
    Upstream upstream,
    MeterRegistry metrics,
    RankingClient ranking,
    WeChatPay pay,
    Limits limits) {}

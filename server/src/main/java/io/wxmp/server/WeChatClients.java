package io.wxmp.server;

import cn.binarywang.wx.miniapp.api.WxMaService;
import cn.binarywang.wx.miniapp.api.impl.WxMaServiceImpl;
import cn.binarywang.wx.miniapp.config.impl.WxMaRedisBetterConfigImpl;
import io.vertx.redis.client.RedisAPI;
import io.wxmp.handlers.common.RedisWxOps;
import me.chanjar.weixin.common.util.http.apache.DefaultApacheHttpClientBuilder;

/** Builds the WxJava service: pointed at WeChat or the sandbox, access token in Redis, bounded HTTP timeouts. */
final class WeChatClients {
  private WeChatClients() {}

  /** The WeChat settings, all of them checked. */
  static void check(Settings settings) {
    Settings.Check check = new Settings.Check();
    check.run(() -> settings.required("WXMP_WX_APPID"));
    check.run(() -> settings.required("WXMP_WX_SECRET"));
    check.run(() -> settings.required("WXMP_WX_API_URL"));
    check.done();
  }

  static WxMaService miniApp(Settings settings, RedisAPI redis) {
    int timeoutMs = settings.integer("WXMP_UPSTREAM_TIMEOUT_MS", 100, 60_000);
    int workers = settings.integer("WXMP_WECHAT_WORKERS", 1, 512);
    DefaultApacheHttpClientBuilder http = DefaultApacheHttpClientBuilder.get();
    http.setConnectionTimeout(timeoutMs);
    http.setConnectionRequestTimeout(timeoutMs);
    http.setSoTimeout(timeoutMs);
    http.setMaxConnPerHost(workers);
    http.setMaxTotalConn(workers * 2);

    WxMaRedisBetterConfigImpl config = new WxMaRedisBetterConfigImpl(new RedisWxOps(redis), "wxmp:wechat");
    config.setAppid(settings.required("WXMP_WX_APPID"));
    config.setSecret(settings.required("WXMP_WX_SECRET"));
    config.setApiHostUrl(stripSlash(settings.required("WXMP_WX_API_URL")));
    config.useStableAccessToken(true);
    // No blind retries: a failed call surfaces as 503 within the upstream timeout instead of sleeping 31 s.
    config.setMaxRetryTimes(0);
    config.setApacheHttpClientBuilder(http);
    WxMaServiceImpl service = new WxMaServiceImpl();
    service.setWxMaConfig(config);
    return service;
  }

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}

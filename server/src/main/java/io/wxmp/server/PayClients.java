package io.wxmp.server;

import com.wechat.pay.java.core.RSAPublicKeyConfig;
import com.wechat.pay.java.core.http.DefaultHttpClientBuilder;
import com.wechat.pay.java.core.http.HttpClient;
import com.wechat.pay.java.core.notification.NotificationParser;
import com.wechat.pay.java.service.payments.jsapi.JsapiServiceExtension;
import com.wechat.pay.java.service.refund.RefundService;
import com.wechat.pay.java.core.util.PemUtil;
import java.security.PrivateKey;
import java.security.PublicKey;
import io.wxmp.handlers.pay.WeChatPay;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;

/**
 * Builds the WeChat Pay side from the settings ({@code WXMP_PAY_*}), checking what the SDK does not (the APIv3 key's
 * length, readable key files) so that a wrong setting stops start-up with one line naming it. In dev mode and tests
 * {@code WXMP_PAY_API_URL} points at the sandbox: an OkHttp interceptor rewrites WeChat Pay's host, which the request
 * signature does not cover.
 */
public final class PayClients {
  static final String DEFAULT_API_URL = "https://api.mch.weixin.qq.com";
  private static final Set<String> WECHAT_PAY_HOSTS = Set.of("api.mch.weixin.qq.com", "api2.mch.weixin.qq.com");

  private PayClients() {}

  public static WeChatPay create(Settings settings) {
    Settings.Check check = new Settings.Check();
    String appId = check.get(() -> settings.required("WXMP_WX_APPID"));
    String mchId = check.get(() -> settings.required("WXMP_PAY_MCH_ID"));
    String serial = check.get(() -> settings.required("WXMP_PAY_MERCHANT_SERIAL"));
    String apiV3Key = check.get(() -> {
      String key = settings.required("WXMP_PAY_APIV3_KEY");
      if (key.getBytes(StandardCharsets.UTF_8).length != 32) {
        throw new Settings.ConfigException("WXMP_PAY_APIV3_KEY: must be exactly 32 bytes (it has "
            + key.getBytes(StandardCharsets.UTF_8).length + ")");
      }
      return key;
    });
    PrivateKey privateKey = check.get(() -> {
      String pem = readFile(settings, "WXMP_PAY_MERCHANT_KEY_FILE");
      try {
        return PemUtil.loadPrivateKeyFromString(pem);
      } catch (RuntimeException e) {
        throw new Settings.ConfigException("WXMP_PAY_MERCHANT_KEY_FILE: not a PKCS#8 PEM RSA private key");
      }
    });
    PublicKey publicKey = check.get(() -> {
      String pem = readFile(settings, "WXMP_PAY_PUBLIC_KEY_FILE");
      try {
        return PemUtil.loadPublicKeyFromString(pem);
      } catch (RuntimeException e) {
        throw new Settings.ConfigException("WXMP_PAY_PUBLIC_KEY_FILE: not a PEM RSA public key");
      }
    });
    String publicKeyId = check.get(() -> {
      String id = settings.required("WXMP_PAY_PUBLIC_KEY_ID");
      if (!id.startsWith("PUB_KEY_ID_")) {
        throw new Settings.ConfigException("WXMP_PAY_PUBLIC_KEY_ID: '" + id + "' does not start with PUB_KEY_ID_");
      }
      return id;
    });
    String notifyBase = check.get(() -> {
      String base = settings.string("WXMP_PAY_NOTIFY_URL");
      if (base == null) {
        base = settings.string("WXMP_PUBLIC_URL");
      }
      if (base == null) {
        throw new Settings.ConfigException("WXMP_PAY_NOTIFY_URL: required but not set (the public base URL of this "
            + "server; /api/v1/pay/notify and /api/v1/pay/refund-notify are appended; WXMP_PUBLIC_URL also serves)");
      }
      return webUrl("WXMP_PAY_NOTIFY_URL", base);
    });
    String apiUrl = check.get(() -> webUrl("WXMP_PAY_API_URL", settings.required("WXMP_PAY_API_URL")));
    Integer ttl = check.get(() -> settings.integer("WXMP_PAY_ORDER_TTL_SEC", 60, 7 * 86_400));
    // At least a minute: asking WeChat Pay about a refund whose create call is still under way would read as "never
    // made" and wrongly undo it.
    Integer after = check.get(() -> settings.integer("WXMP_PAY_RECONCILE_AFTER_SEC", 60, 86_400));
    Integer maxAge = check.get(() -> settings.integer("WXMP_PAY_NOTIFY_MAX_AGE_SEC", 10, 3_600));
    Integer timeoutMs = check.get(() -> settings.integer("WXMP_UPSTREAM_TIMEOUT_MS", 100, 60_000));
    check.run(() -> settings.integer("WXMP_PAY_RECONCILE_INTERVAL_SEC", 1, 86_400));
    check.done();

    RSAPublicKeyConfig config = new RSAPublicKeyConfig.Builder()
        .merchantId(mchId)
        .privateKey(privateKey)
        .merchantSerialNumber(serial)
        .publicKey(publicKey)
        .publicKeyId(publicKeyId)
        .apiV3Key(apiV3Key)
        .build();

    OkHttpClient.Builder okHttp = new OkHttpClient.Builder()
        .connectTimeout(timeoutMs, TimeUnit.MILLISECONDS)
        .readTimeout(timeoutMs, TimeUnit.MILLISECONDS)
        .writeTimeout(timeoutMs, TimeUnit.MILLISECONDS);
    HttpUrl target = HttpUrl.get(apiUrl);
    if (!WECHAT_PAY_HOSTS.contains(target.host()) || !"https".equals(target.scheme()) || target.port() != 443) {
      okHttp.addInterceptor(chain -> {
        var request = chain.request();
        if (!WECHAT_PAY_HOSTS.contains(request.url().host())) {
          return chain.proceed(request);
        }
        HttpUrl rewritten = request.url().newBuilder()
            .scheme(target.scheme()).host(target.host()).port(target.port()).build();
        return chain.proceed(request.newBuilder().url(rewritten).build());
      });
    }
    HttpClient http = new DefaultHttpClientBuilder().config(config).okHttpClient(okHttp.build()).build();
    JsapiServiceExtension jsapi = new JsapiServiceExtension.Builder().config(config).httpClient(http).build();
    RefundService refunds = new RefundService.Builder().config(config).httpClient(http).build();
    return new WeChatPay(appId, mchId, notifyBase, ttl, after, maxAge, jsapi, refunds, new NotificationParser(config));
  }

  private static String readFile(Settings settings, String name) {
    String file = settings.required(name);
    try {
      return Files.readString(Path.of(file), StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      throw new Settings.ConfigException(name + ": cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
    }
  }

  private static String webUrl(String name, String value) {
    String url = value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
    try {
      URI uri = URI.create(url);
      if ((!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())) || uri.getHost() == null) {
        throw new Settings.ConfigException(name + ": '" + value + "' is not an http(s) URL");
      }
      return url;
    } catch (IllegalArgumentException e) {
      throw new Settings.ConfigException(name + ": '" + value + "' is not an http(s) URL");
    }
  }
}

package io.wxmp.handlers.common;

import cn.binarywang.wx.miniapp.api.WxMaService;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import me.chanjar.weixin.common.error.WxErrorException;

/**
 * WeChat content security for what merchants publish (item titles, summaries and bodies, quiz texts): each text goes to
 * {@code msg_sec_check} through WxJava (version 1, which needs no user openid: merchants are not WeChat users of the
 * mini-program), all at once; a risky one fails the write with 422 {@code content_rejected} naming every risky field.
 * WeChat not answering is 503, as for every upstream call.
 */
public final class ContentSecurity {
  /** errcode of msg_sec_check version 1 for risky content. */
  private static final int RISKY = 87014;

  private final WxMaService wechat;
  private final Upstream upstream;

  public ContentSecurity(WxMaService wechat, Upstream upstream) {
    this.wechat = wechat;
    this.upstream = upstream;
  }

  /** Checks the texts (field name to text, blank ones skipped). */
  public Future<Void> check(Map<String, String> texts) {
    Map<String, String> toCheck = new LinkedHashMap<>();
    texts.forEach((field, text) -> {
      if (text != null && !text.isBlank()) {
        toCheck.put(field, text);
      }
    });
    if (toCheck.isEmpty()) {
      return Future.succeededFuture();
    }
    List<String> fields = new ArrayList<>(toCheck.keySet());
    List<Future<Boolean>> checks = new ArrayList<>();
    for (String field : fields) {
      String text = toCheck.get(field);
      checks.add(upstream.call("WeChat", () -> wechat.getSecurityService().checkMessage(text))
          .map(true)
          .recover(failure -> failure instanceof WxErrorException wx && wx.getError().getErrorCode() == RISKY
              ? Future.succeededFuture(false)
              : Future.failedFuture(failure instanceof ApiException ? failure
                  : ApiException.upstreamUnavailable("WeChat"))));
    }
    return Future.all(checks).compose(all -> {
      JsonObject risky = new JsonObject();
      for (int i = 0; i < fields.size(); i++) {
        if (!Boolean.TRUE.equals(all.resultAt(i))) {
          risky.put(fields.get(i), "WeChat content security judged this text risky");
        }
      }
      return risky.isEmpty() ? Future.succeededFuture() : Future.failedFuture(ApiException.contentRejected(risky));
    });
  }
}

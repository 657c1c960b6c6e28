package io.wxmp.handlers.common;

import java.util.Locale;
import java.util.Map;

/**
 * The error messages' languages (API.md Conventions): Chinese ({@code zh-CN}) unless {@code Accept-Language} prefers
 * English. Chinese text comes from this catalogue, one message per error code (a status's message when a code has none
 * of its own); English is the detailed message the code that failed wrote. {@code code} and {@code fields} never change
 * with the language.
 */
public final class Messages {
  private static final Map<String, String> ZH = Map.ofEntries(
      Map.entry("bad_request", "请求有误，请检查后重试。"),
      Map.entry("unauthorized", "请先登录（登录已失效或令牌无效）。"),
      Map.entry("invalid_wx_code", "微信登录凭证无效或已过期，请重新登录。"),
      Map.entry("forbidden", "当前角色无权进行此操作。"),
      Map.entry("not_found", "内容不存在。"),
      Map.entry("method_not_allowed", "不支持此请求方法。"),
      Map.entry("conflict", "当前状态不允许此操作。"),
      Map.entry("payload_too_large", "请求内容过大。"),
      Map.entry("request_timeout", "请求发送超时，请重试。"),
      Map.entry("uri_too_long", "请求地址过长。"),
      Map.entry("headers_too_large", "请求头过大。"),
      Map.entry("unsupported_media_type", "请以 application/json 发送。"),
      Map.entry("content_rejected", "内容未通过微信内容安全检测，请修改后重试。"),
      Map.entry("rate_limited", "操作过于频繁，请稍后再试。"),
      Map.entry("upstream_unavailable", "服务暂时不可用，请稍后再试。"),
      Map.entry("internal", "服务器出错了，请稍后再试。"),
      Map.entry("account_disabled", "该账号已停用。"),
      Map.entry("already_owned", "您已拥有该内容。"),
      Map.entry("already_submitted", "该答题已提交。"),
      Map.entry("attempt_expired", "答题已超时。"),
      Map.entry("attempts_exhausted", "答题次数已用完。"),
      Map.entry("experiment_running", "实验进行中，不能修改。"),
      Map.entry("idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求。"),
      Map.entry("last_owner", "商户至少需要保留一个可用的所有者账号。"),
      Map.entry("merchant_suspended", "该商户已被暂停。"),
      Map.entry("password_change_required", "请先修改初始密码。"),
      Map.entry("payment_rejected", "微信支付拒绝了该订单。"),
      Map.entry("refund_rejected", "微信支付拒绝了该退款。"),
      Map.entry("training_in_progress", "已有模型正在训练。"),
      Map.entry("username_taken", "该用户名已被占用。"));

  private static final Map<Integer, String> ZH_BY_STATUS = Map.of(
      400, "请求有误，请检查后重试。", 401, "请先登录。", 403, "无权进行此操作。", 404, "内容不存在。",
      409, "当前状态不允许此操作。", 413, "请求内容过大。", 422, "内容无法处理。", 429, "操作过于频繁，请稍后再试。",
      503, "服务暂时不可用，请稍后再试。");

  private Messages() {}

  /** Every error code the server sends: each has its Chinese line here and a place in openapi.yaml's Error. */
  public static java.util.Set<String> codes() {
    return ZH.keySet();
  }

  /** True when {@code Accept-Language} asks for English before Chinese (q-values honoured). */
  public static boolean english(String acceptLanguage) {
    if (acceptLanguage == null || acceptLanguage.isBlank()) {
      return false;
    }
    try {
      for (Locale.LanguageRange range : Locale.LanguageRange.parse(acceptLanguage)) {
        String tag = range.getRange().toLowerCase(Locale.ROOT);
        if (range.getWeight() <= 0) {
          continue;
        }
        if (tag.equals("en") || tag.startsWith("en-")) {
          return true;
        }
        if (tag.equals("zh") || tag.startsWith("zh-")) {
          return false;
        }
      }
    } catch (IllegalArgumentException malformed) {
      return false;
    }
    return false;
  }

  /** The dependencies a 503 names, as a Chinese reader knows them. */
  private static final Map<String, String> PARTS = Map.of("WeChat", "微信", "WeChat Pay", "微信支付");

  /** The message for a person in the asked language. */
  public static String of(ApiException error, String acceptLanguage) {
    if (english(acceptLanguage)) {
      return error.getMessage();
    }
    if ("upstream_unavailable".equals(error.code()) && error.unavailablePart() != null) {
      return PARTS.getOrDefault(error.unavailablePart(), error.unavailablePart()) + " 暂时不可用，请稍后再试。"; // names the part, as in English
    }
    String zh = ZH.get(error.code());
    if (zh == null) {
      zh = ZH_BY_STATUS.getOrDefault(error.status(), error.status() >= 500 ? ZH.get("internal") : ZH.get("bad_request"));
    }
    return zh;
  }
}

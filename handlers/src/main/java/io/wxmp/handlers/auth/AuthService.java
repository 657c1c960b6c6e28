package io.wxmp.handlers.auth;

import cn.binarywang.wx.miniapp.api.WxMaService;
import cn.binarywang.wx.miniapp.bean.WxMaJscode2SessionResult;
import cn.binarywang.wx.miniapp.bean.WxMaPhoneNumberInfo;
import cn.binarywang.wx.miniapp.bean.security.WxMaMsgSecCheckCheckRequest;
import cn.binarywang.wx.miniapp.bean.security.WxMaMsgSecCheckCheckResponse;
import io.vertx.core.Future;
import io.wxmp.handlers.common.ApiException;
import io.wxmp.handlers.common.FieldCipher;
import io.wxmp.handlers.common.ProfileCache;
import io.wxmp.handlers.common.Sessions;
import io.wxmp.handlers.common.Upstream;
import io.wxmp.handlers.common.UserPrincipal;
import me.chanjar.weixin.common.error.WxErrorException;

/**
 * WeChat login and the user's own profile. The {@code session_key} WeChat returns is dropped here: the phone number
 * comes from WeChat's phone API, so the key is never stored, logged or sent anywhere.
 */
public final class AuthService {
  private final WxMaService wechat;
  private final Upstream upstream;
  private final Sessions sessions;
  private final UserRepository users;
  private final FieldCipher phoneCipher;
  private final ProfileCache profiles;

  public AuthService(WxMaService wechat, Upstream upstream, Sessions sessions, UserRepository users,
      FieldCipher phoneCipher, ProfileCache profiles) {
    this.profiles = profiles;
    this.wechat = wechat;
    this.upstream = upstream;
    this.sessions = sessions;
    this.users = users;
    this.phoneCipher = phoneCipher;
  }

  public record Login(String token, long expiresIn, UserRepository.LoginRow user) {}

  public Future<Login> login(String code) {
    return upstream.call("WeChat", () -> wechat.getUserService().getSessionInfo(code))
        .recover(AuthService::wechatFailure)
        .compose((WxMaJscode2SessionResult session) -> users.upsertByOpenid(session.getOpenid(), session.getUnionid())
            .compose(user -> sessions.issueUser(new UserPrincipal(user.id(), session.getOpenid()))
                .map(token -> new Login(token, sessions.userTtlSeconds(), user))));
  }

  /** Binds the phone number behind a phone-button code; answers the masked number. */
  public Future<String> bindPhone(UserPrincipal user, String code) {
    return upstream.call("WeChat", () -> wechat.getUserService().getPhoneNoInfo(code))
        .recover(AuthService::wechatFailure)
        .compose((WxMaPhoneNumberInfo info) -> {
          String phone = info.getPurePhoneNumber() != null ? info.getPurePhoneNumber() : info.getPhoneNumber();
          if (phone == null || phone.isBlank()) {
            return Future.failedFuture(new ApiException(401, "invalid_wx_code", "WeChat returned no phone number."));
          }
          // stored encrypted (AES-GCM, key from configuration); only the masked number is ever shown
          return users.setPhone(user.userId(), phoneCipher.encrypt(phone))
              .eventually(() -> profiles.invalidate(user.userId()))
              .map(v -> mask(phone));
        });
  }

  public Future<UserRepository.Profile> profile(UserPrincipal user) {
    return users.profile(user.userId()).compose(p -> p == null
        ? Future.failedFuture(ApiException.unauthorized()) : Future.succeededFuture(p));
  }

  /** Checks a new nickname with WeChat content security first; a risky one changes nothing (422). */
  public Future<UserRepository.Profile> updateProfile(UserPrincipal user, String nickname, String avatarUrl,
      Boolean personalised) {
    Future<Void> checked = nickname == null ? Future.succeededFuture() : upstream.call("WeChat", () ->
            wechat.getSecurityService().checkMessage(WxMaMsgSecCheckCheckRequest.builder()
                .version("2").openid(user.openid()).scene(1).content(nickname).build()))
        .recover(AuthService::wechatFailure)
        .compose((WxMaMsgSecCheckCheckResponse r) -> r.getResult() != null
            && "risky".equalsIgnoreCase(r.getResult().getSuggest())
            ? Future.failedFuture(new ApiException(422, "content_rejected", "WeChat judged the nickname risky."))
            : Future.succeededFuture());
    return checked.compose(v -> users.updateProfile(user.userId(), nickname, avatarUrl, personalised)
            .eventually(() -> profiles.invalidate(user.userId())))
        .compose(v -> profile(user));
  }

  public Future<Void> logout(String token) {
    return sessions.revokeUser(token);
  }

  /** Log out everywhere: every token of the user, this one included. */
  public Future<Void> logoutEverywhere(UserPrincipal user) {
    return sessions.revokeAll(Sessions.Owner.USER, user.userId(), null);
  }

  static String mask(String phone) {
    if (phone.length() < 7) {
      return "*".repeat(phone.length());
    }
    return phone.substring(0, 3) + "****" + phone.substring(phone.length() - 4);
  }

  /** Maps WeChat's error codes to API.md: bad or used codes are the client's problem, the rest is upstream's. */
  private static <T> Future<T> wechatFailure(Throwable failure) {
    if (failure instanceof WxErrorException wx) {
      int code = wx.getError().getErrorCode();
      return switch (code) {
        case 40029, 40163, 40125 -> Future.failedFuture(
            new ApiException(401, "invalid_wx_code", "WeChat rejected the code."));
        case 45011 -> Future.failedFuture(ApiException.rateLimited(60));
        case 40226 -> Future.failedFuture(new ApiException(403, "forbidden", "WeChat has blocked this user."));
        default -> Future.failedFuture(ApiException.upstreamUnavailable("WeChat"));
      };
    }
    ApiException inner = Upstream.innerApiException(failure);
    if (inner != null) {
      return Future.failedFuture(inner);
    }
    return Future.failedFuture(ApiException.upstreamUnavailable("WeChat", failure));
  }
}

package io.wxmp.handlers.common;

/** The WeChat user a user token belongs to. */
public record UserPrincipal(long userId, String openid) {}

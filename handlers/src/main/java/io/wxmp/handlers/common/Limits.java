package io.wxmp.handlers.common;

import io.wxmp.handlers.admin.LoginGuard;
import io.wxmp.handlers.admin.PasswordWork;

/**
 * What keeps one client from costing everyone else: who the client is, the bounded password hashing, the login
 * limits, and a token bucket per expensive route (each in front of an upstream call: {@code POST /auth/login} and
 * {@code /auth/phone} call WeChat, {@code POST /orders} WeChat Pay, {@code PATCH /me} and the avatar upload WeChat
 * content security). Built once in the server from the {@code WXMP_RATE_*} settings.
 *
 * @param wechatLogin per client address: a login has no user yet
 * @param orders per user
 * @param profile per user: nickname and avatar changes, phone binding
 */
public record Limits(
    ClientAddresses clients,
    PasswordWork passwords,
    LoginGuard.Config logins,
    RateLimiter wechatLogin,
    RateLimiter orders,
    RateLimiter profile) {}

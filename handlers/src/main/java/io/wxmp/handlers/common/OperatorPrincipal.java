package io.wxmp.handlers.common;

/** The platform operator an operator token belongs to; operator tokens open {@code /platform/*} and nothing else. */
public record OperatorPrincipal(long operatorId, String username) {}

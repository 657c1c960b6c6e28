package io.wxmp.handlers.auth;

import io.vertx.core.Future;
import io.wxmp.handlers.common.FieldCipher;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What the users' routes need beyond {@code Deps}.
 *
 * @param phoneCipher encrypts the phone number at rest ({@code WXMP_PHONE_KEY})
 * @param publicUrl this server's public base URL, for the avatarUrl of an uploaded avatar (null: a path)
 * @param templates subscribe message template ids by kind ({@code payment}, {@code refund}); absent kinds are not sent
 * @param forgetters what else to erase on {@code DELETE /me} (Redis state of other features, by user id)
 */
public record AuthConfig(FieldCipher phoneCipher, String publicUrl, Map<String, String> templates,
    List<Function<Long, Future<Void>>> forgetters) {}

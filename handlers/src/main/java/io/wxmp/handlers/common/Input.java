package io.wxmp.handlers.common;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a JSON request body field by field, collecting every problem, so that a 400 names all the wrong fields
 * at once. Call {@link #validate()} after reading; it throws {@link ApiException#invalid}.
 */
public final class Input {
  private static final String NOT_STORABLE = "must not contain NUL or unpaired surrogate characters";
  private final JsonObject body;
  private final JsonObject errors = new JsonObject();

  private Input(JsonObject body) {
    this.body = body;
  }

  /** The request body as a JSON object; 400 when it is missing, malformed or not an object, 415 when not JSON. */
  public static Input of(RoutingContext ctx) {
    String type = ctx.request().getHeader("Content-Type");
    if (type != null && !isJson(type)) {
      // a form or multipart body is consumed by the body handler and has no buffer left to read
      throw new ApiException(415, "unsupported_media_type", "Send the body as application/json.");
    }
    Buffer buffer = ctx.body() == null ? null : ctx.body().buffer();
    if (buffer == null || buffer.length() == 0) {
      throw ApiException.badRequest("A JSON object body is required.");
    }
    Object parsed;
    try {
      parsed = io.vertx.core.json.Json.decodeValue(buffer);
    } catch (DecodeException e) {
      throw ApiException.badRequest("The body is not valid JSON.");
    }
    if (!(parsed instanceof JsonObject object)) {
      throw ApiException.badRequest("The body must be a JSON object.");
    }
    return new Input(object);
  }

  private static boolean isJson(String contentType) {
    int semicolon = contentType.indexOf(';');
    String media = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip()
        .toLowerCase(java.util.Locale.ROOT);
    return media.equals("application/json") || (media.startsWith("application/") && media.endsWith("+json"));
  }

  public static Input of(JsonObject object) {
    return new Input(object == null ? new JsonObject() : object);
  }

  public boolean has(String name) {
    return body.containsKey(name);
  }

  public JsonObject raw() {
    return body;
  }

  /** A string of {@code min..max} characters (code points), trimmed; null when absent and not required. */
  public String string(String name, int min, int max, boolean required) {
    Object value = body.getValue(name);
    if (value == null) {
      return missing(name, required);
    }
    if (!(value instanceof String s)) {
      return wrong(name, "must be a string");
    }
    if (!storable(s)) {
      return wrong(name, NOT_STORABLE);
    }
    String trimmed = s.strip();
    int length = trimmed.codePointCount(0, trimmed.length());
    if (length < min || length > max) {
      return wrong(name, "must be " + min + ".." + max + " characters");
    }
    return trimmed;
  }

  /**
   * A name shown to other people (a nickname): {@link #string} plus one line of visible text. Refused: line breaks and
   * other control characters; bidirectional controls (overrides, embeddings, isolates, marks), which make a name
   * read differently from how it is stored; and a name with nothing visible left once spaces, zero-width and other
   * format characters, fillers (Hangul, braille blank) and lone combining marks are taken away.
   */
  public String displayName(String name, int min, int max, boolean required) {
    String text = string(name, min, max, required);
    if (text == null) {
      return null;
    }
    boolean visible = false;
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      i += Character.charCount(c);
      if (c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029 || Character.getType(c) == Character.CONTROL) {
        return wrong(name, "must be one line");
      }
      if (isBidiControl(c)) {
        return wrong(name, "must not contain bidirectional control characters");
      }
      visible |= !isInvisible(c);
    }
    return visible ? text : wrong(name, "must contain a visible character");
  }

  private static boolean isBidiControl(int c) {
    return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
  }

  /** Draws nothing on its own: spaces, format characters (zero-width, joiners), fillers, marks, selectors. */
  private static boolean isInvisible(int c) {
    if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
      return true;
    }
    return switch (Character.getType(c)) {
      case Character.FORMAT, Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK,
          Character.UNASSIGNED, Character.PRIVATE_USE -> true;
      default -> c == 0x115F || c == 0x1160 || c == 0x3164 || c == 0xFFA0 || c == 0x2800 || c == 0x180E
          || c == 0x034F || (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF)
          || (c >= 0x17B4 && c <= 0x17B5);
    };
  }

  /** A required string taken exactly as sent (a password: no trimming). */
  public String secret(String name, int min, int max) {
    Object value = body.getValue(name);
    if (value == null) {
      return missing(name, true);
    }
    if (!(value instanceof String s) || s.length() < min || s.length() > max) {
      return wrong(name, "must be a string of " + min + ".." + max + " characters");
    }
    return s;
  }

  /** An http(s) URL of at most {@code max} characters (an avatar, a cover image). */
  public String url(String name, int max, boolean required) {
    String text = string(name, 1, max, required);
    if (text != null && !isWebUrl(text)) {
      return wrong(name, "must be an http(s) URL");
    }
    return text;
  }

  private static boolean isWebUrl(String text) {
    try {
      java.net.URI uri = java.net.URI.create(text);
      return ("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) && uri.getHost() != null;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** An integer in {@code min..max}; JSON numbers with a fraction are rejected. */
  public Long integer(String name, long min, long max, boolean required) {
    Object value = body.getValue(name);
    if (value == null) {
      return missing(name, required);
    }
    if (!(value instanceof Integer || value instanceof Long)) {
      return wrong(name, "must be an integer");
    }
    long n = ((Number) value).longValue();
    if (n < min || n > max) {
      return wrong(name, "must be between " + min + " and " + max);
    }
    return n;
  }

  public Boolean bool(String name, boolean required) {
    Object value = body.getValue(name);
    if (value == null) {
      return missing(name, required);
    }
    if (!(value instanceof Boolean b)) {
      return wrong(name, "must be true or false");
    }
    return b;
  }

  /** An id, which API.md sends as a string of digits. */
  public Long id(String name, boolean required) {
    Object value = body.getValue(name);
    if (value == null) {
      return missing(name, required);
    }
    Long id = value instanceof String s ? Ids.parseOrNull(s) : null;
    return id == null ? wrong(name, "must be an id string") : id;
  }

  public OffsetDateTime time(String name, boolean required) {
    Object value = body.getValue(name);
    if (value == null) {
      return missing(name, required);
    }
    if (!(value instanceof String s)) {
      return wrong(name, "must be an ISO-8601 time with an offset");
    }
    OffsetDateTime time;
    try {
      time = OffsetDateTime.parse(s);
    } catch (DateTimeParseException e) {
      return wrong(name, "must be an ISO-8601 time with an offset");
    }
    // PostgreSQL stores years past its range as +/-infinity, which then cannot be written back out: keep to the
    // four-digit years ISO-8601 names without agreement
    if (time.getYear() < 1 || time.getYear() > 9999) {
      return wrong(name, "must be a time in the years 0001..9999");
    }
    return time;
  }

  /** One of the given values. */
  public String oneOf(String name, List<String> allowed, boolean required) {
    Object value = body.getValue(name);
    if (value == null) {
      return missing(name, required);
    }
    if (!(value instanceof String s) || !allowed.contains(s)) {
      return wrong(name, "must be one of " + String.join(", ", allowed));
    }
    return s;
  }

  /** A list of non-empty strings, each at most {@code maxLength} characters, at most {@code maxItems}. */
  public List<String> strings(String name, int maxItems, int maxLength, boolean required) {
    Object value = body.getValue(name);
    if (value == null) {
      return missing(name, required);
    }
    if (!(value instanceof JsonArray array) || array.size() > maxItems) {
      return wrong(name, "must be a list of at most " + maxItems + " strings");
    }
    List<String> out = new ArrayList<>();
    for (Object item : array) {
      if (!(item instanceof String s) || s.isBlank() || s.length() > maxLength) {
        return wrong(name, "each entry must be a string of 1.." + maxLength + " characters");
      }
      if (!storable(s)) {
        return wrong(name, NOT_STORABLE);
      }
      out.add(s.strip());
    }
    return out;
  }

  public JsonObject object(String name, boolean required) {
    Object value = body.getValue(name);
    if (value == null) {
      return missing(name, required);
    }
    return value instanceof JsonObject o ? o : wrong(name, "must be an object");
  }

  public JsonArray array(String name, int min, int max, boolean required) {
    Object value = body.getValue(name);
    if (value == null) {
      return missing(name, required);
    }
    if (!(value instanceof JsonArray a) || a.size() < min || a.size() > max) {
      return wrong(name, "must be a list of " + min + ".." + max + " entries");
    }
    return a;
  }

  /** Records a rule that the reader checked itself. */
  public Input check(boolean ok, String name, String problem) {
    if (!ok && !errors.containsKey(name)) {
      errors.put(name, problem);
    }
    return this;
  }

  public void error(String name, String problem) {
    check(false, name, problem);
  }

  /** Copies a nested object's field errors into this input, named by their path ({@code prefix} + field). */
  public void nest(String prefix, Input inner) {
    inner.errors.forEach(e -> error(prefix + e.getKey(), String.valueOf(e.getValue())));
  }

  public boolean hasErrors() {
    return !errors.isEmpty();
  }

  public void validate() {
    if (!errors.isEmpty()) {
      throw ApiException.invalid(errors);
    }
  }

  /**
   * PostgreSQL text cannot hold U+0000 (the insert fails), and a lone surrogate is not Unicode at all (it would be
   * stored as '?'): both are bad input, not a server error.
   */
  private static boolean storable(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\u0000' || Character.isLowSurrogate(c)) {
        return false;
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      }
    }
    return true;
  }

  private <T> T missing(String name, boolean required) {
    if (required) {
      errors.put(name, "is required");
    }
    return null;
  }

  private <T> T wrong(String name, String problem) {
    errors.put(name, problem);
    return null;
  }
}

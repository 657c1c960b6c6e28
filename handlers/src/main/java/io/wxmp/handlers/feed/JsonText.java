package io.wxmp.handlers.feed;

/**
 * JSON written straight into a {@link StringBuilder}, the same characters as Vert.x's {@code encode()} (Jackson)
 * writes for the same values: the feed page is written this way, with no JsonObject built and encoded per item.
 */
final class JsonText {
  private JsonText() {}

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();
  /** Jackson's escapes below 0x80: 0 none, a char its short escape, -1 \\u00XX. */
  private static final int[] ESCAPES = new int[128];

  static {
    for (int c = 0; c < 0x20; c++) {
      ESCAPES[c] = -1;
    }
    ESCAPES['"'] = '"';
    ESCAPES['\\'] = '\\';
    ESCAPES['\b'] = 'b';
    ESCAPES['\t'] = 't';
    ESCAPES['\f'] = 'f';
    ESCAPES['\n'] = 'n';
    ESCAPES['\r'] = 'r';
  }

  /** A JSON string, or {@code null}. */
  static StringBuilder string(StringBuilder out, String s) {
    if (s == null) {
      return out.append("null");
    }
    out.append('"');
    int n = s.length();
    int from = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 128 && ESCAPES[c] != 0) {
        out.append(s, from, i);
        int e = ESCAPES[c];
        if (e > 0) {
          out.append('\\').append((char) e);
        } else {
          out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
        }
        from = i + 1;
      }
    }
    return out.append(s, from, n).append('"');
  }

  /** {@code "name":} (a name of ours: nothing to escape). */
  static StringBuilder name(StringBuilder out, String name) {
    return out.append('"').append(name).append("\":");
  }
}

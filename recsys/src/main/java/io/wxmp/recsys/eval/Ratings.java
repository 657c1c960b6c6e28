package io.wxmp.recsys.eval;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Explicit or implicit ratings as parallel arrays with dense int ids, read from a {@code user,item,rating[,timestamp]}
 * CSV (a header line is skipped; raw ids are any strings). Timestamps are -1 when the file has none.
 */
public record Ratings(int users, int items, int[] user, int[] item, float[] rating, long[] timestamp) {

  public int size() {
    return user.length;
  }

  public boolean hasTimestamps() {
    return timestamp.length > 0 && timestamp[0] >= 0;
  }

  public static Ratings read(Path csv) throws IOException {
    Map<String, Integer> users = new HashMap<>();
    Map<String, Integer> items = new HashMap<>();
    int n = 0;
    int[] u = new int[1 << 16];
    int[] i = new int[1 << 16];
    float[] r = new float[1 << 16];
    long[] t = new long[1 << 16];
    try (BufferedReader in = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
      String line;
      int lineNo = 0;
      while ((line = in.readLine()) != null) {
        lineNo++;
        line = line.strip();
        if (line.isEmpty()) {
          continue;
        }
        String[] f = line.split("[,\t]");
        if (f.length < 3) {
          throw new IOException(csv + ":" + lineNo + ": expected user,item,rating[,timestamp]");
        }
        float rating;
        try {
          rating = Float.parseFloat(f[2].strip());
        } catch (NumberFormatException e) {
          if (lineNo == 1) {
            continue; // header
          }
          throw new IOException(csv + ":" + lineNo + ": rating is not a number: " + f[2]);
        }
        long ts = -1;
        if (f.length > 3 && !f[3].isBlank()) {
          try {
            ts = Long.parseLong(f[3].strip());
          } catch (NumberFormatException e) {
            throw new IOException(csv + ":" + lineNo + ": timestamp is not an integer: " + f[3]);
          }
        }
        if (n == u.length) {
          u = Arrays.copyOf(u, n * 2);
          i = Arrays.copyOf(i, n * 2);
          r = Arrays.copyOf(r, n * 2);
          t = Arrays.copyOf(t, n * 2);
        }
        u[n] = users.computeIfAbsent(f[0].strip(), k -> users.size());
        i[n] = items.computeIfAbsent(f[1].strip(), k -> items.size());
        r[n] = rating;
        t[n] = ts;
        n++;
      }
    }
    return new Ratings(users.size(), items.size(), Arrays.copyOf(u, n), Arrays.copyOf(i, n), Arrays.copyOf(r, n),
        Arrays.copyOf(t, n));
  }
}

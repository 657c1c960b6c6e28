package io.wxmp.recsys.eval;

import io.wxmp.recsys.FoldIn;
import io.wxmp.recsys.Ials;
import io.wxmp.recsys.IalsModel;
import io.wxmp.recsys.IalsParams;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The offline evaluation command (RECSYS.md §5): reads a {@code user,item,rating[,timestamp]} CSV, splits it by the
 * chosen protocol, trains iALS and the baselines (popularity, EASE) on the same splits and prints a markdown table
 * (mean ± sd over seeds), plus MMR and tail-slot rows, fold-in latency and training time. Run through
 * {@code bench/recsys-eval.sh}; {@code --help} lists the options.
 */
public final class EvalMain {
  private EvalMain() {
  }

  static final String USAGE = """
      usage: recsys-eval FILE [options]
        --protocol strong|temporal   strong generalisation (default) or last 20 % per user by time
        --min-rating R               ratings >= R are positives (default: every row is a positive)
        --seeds N                    seeds 0..N-1 for the strong protocol (default 5)
        --dim D --epochs E --alpha0 A --lambda L --scale S    iALS parameters (default 64, 16, 0.3, 0.01, 0)
        --ease-lambda L              EASE regulariser (default 100)
        --tune                       grid-search iALS (dims x alpha0 x lambda) and EASE on seed 0's validation users
        --grid-dims 64,128 --grid-alpha0 0.01,0.03,0.1,0.3 --grid-lambda 0.001,0.003,0.01,0.03
        --grid-ease 50,100,200,500,1000
        --threads T                  training threads (default: available processors)
        --no-ease                    skip EASE
        --mmr-lambdas 0.9,0.7,0.5    MMR rows to add (default 0.7); each one's ILD@10 / NDCG@10 change is printed
        --mmr-window N               candidates MMR re-ranks into the first 10 places (default 100)
      """;

  public static void main(String[] args) throws IOException {
    Map<String, String> opt = new LinkedHashMap<>();
    String file = null;
    for (int k = 0; k < args.length; k++) {
      String a = args[k];
      if (a.equals("--help") || a.equals("-h")) {
        System.out.print(USAGE);
        return;
      }
      if (a.equals("--tune") || a.equals("--no-ease")) {
        opt.put(a, "true");
      } else if (a.startsWith("--")) {
        if (k + 1 >= args.length) {
          fail("missing value for " + a);
        }
        opt.put(a, args[++k]);
      } else if (file == null) {
        file = a;
      } else {
        fail("unexpected argument " + a);
      }
    }
    if (file == null) {
      fail("no input file");
    }
    for (String key : opt.keySet()) {
      if (!USAGE.contains(key + " ") && !USAGE.contains(key + "\n")) {
        fail("unknown option " + key);
      }
    }
    Ratings ratings = Ratings.read(Path.of(file));
    Config c = new Config(opt);
    run(ratings, file, c, System.out);
  }

  private static void fail(String message) {
    System.err.println("recsys-eval: " + message);
    System.err.print(USAGE);
    System.exit(2);
  }

  /** Parsed options. */
  static final class Config {
    final String protocol;
    final double minRating;
    final int seeds;
    IalsParams ials;
    double easeLambda;
    final boolean tune;
    final boolean ease;
    final int[] gridDims;
    final double[] gridAlpha0;
    final double[] gridLambda;
    final double[] gridEase;
    final double[] mmrLambdas;
    final int mmrWindow;

    Config(Map<String, String> o) {
      protocol = o.getOrDefault("--protocol", "strong");
      if (!protocol.equals("strong") && !protocol.equals("temporal")) {
        throw new IllegalArgumentException("--protocol must be strong or temporal");
      }
      minRating = Double.parseDouble(o.getOrDefault("--min-rating", "-Infinity"));
      seeds = Integer.parseInt(o.getOrDefault("--seeds", "5"));
      int threads = Integer.parseInt(o.getOrDefault("--threads",
          String.valueOf(Runtime.getRuntime().availableProcessors())));
      ials = new IalsParams(Integer.parseInt(o.getOrDefault("--dim", "64")),
          Integer.parseInt(o.getOrDefault("--epochs", "16")),
          Double.parseDouble(o.getOrDefault("--alpha0", "0.3")),
          Double.parseDouble(o.getOrDefault("--lambda", "0.01")),
          Double.parseDouble(o.getOrDefault("--scale", "0")), 0, threads);
      easeLambda = Double.parseDouble(o.getOrDefault("--ease-lambda", "100"));
      tune = o.containsKey("--tune");
      ease = !o.containsKey("--no-ease");
      gridDims = Arrays.stream(o.getOrDefault("--grid-dims", "64,128").split(",")).mapToInt(Integer::parseInt)
          .toArray();
      gridAlpha0 = doubles(o.getOrDefault("--grid-alpha0", "0.01,0.03,0.1,0.3"));
      gridLambda = doubles(o.getOrDefault("--grid-lambda", "0.001,0.003,0.01,0.03"));
      gridEase = doubles(o.getOrDefault("--grid-ease", "50,100,200,500,1000"));
      mmrLambdas = doubles(o.getOrDefault("--mmr-lambdas", "0.7"));
      mmrWindow = Integer.parseInt(o.getOrDefault("--mmr-window", "100"));
    }

    private static double[] doubles(String s) {
      return Arrays.stream(s.split(",")).mapToDouble(Double::parseDouble).toArray();
    }
  }

  /** Metrics per model, one array per seed. */
  static final class Table {
    final Map<String, List<double[]>> rows = new LinkedHashMap<>();

    void add(String model, double[] metrics) {
      rows.computeIfAbsent(model, k -> new ArrayList<>()).add(metrics);
    }

    double mean(String model, int metric) {
      return rows.get(model).stream().mapToDouble(m -> m[metric]).average().orElse(Double.NaN);
    }

    double sd(String model, int metric) {
      List<double[]> l = rows.get(model);
      if (l.size() < 2) {
        return 0;
      }
      double mu = mean(model, metric);
      double s = 0;
      for (double[] m : l) {
        s += (m[metric] - mu) * (m[metric] - mu);
      }
      return Math.sqrt(s / (l.size() - 1));
    }

    void print(PrintStream out) {
      out.println("| model | " + String.join(" | ", Evaluator.METRICS) + " |");
      out.println("|---" + "|---:".repeat(Evaluator.METRICS.size()) + "|");
      for (String model : rows.keySet()) {
        StringBuilder b = new StringBuilder("| " + model + " |");
        for (int m = 0; m < Evaluator.METRICS.size(); m++) {
          b.append(rows.get(model).size() > 1
              ? String.format(Locale.ROOT, " %.3f ± %.3f |", mean(model, m), sd(model, m))
              : String.format(Locale.ROOT, " %.3f |", mean(model, m)));
        }
        out.println(b);
      }
    }
  }

  static String mmrName(double lambda) {
    return "iALS + MMR λ " + fmt(lambda);
  }

  static void run(Ratings r, String name, Config c, PrintStream out) {
    out.printf(Locale.ROOT, "# recsys-eval %s%n%n", name);
    out.printf(Locale.ROOT, "- input: %,d rows, %,d users, %,d items; positives: rating >= %s%n", r.size(), r.users(),
        r.items(), Double.isInfinite(c.minRating) ? "any" : c.minRating);
    out.printf(Locale.ROOT, "- protocol: %s; JDK %s; %d processors%n", c.protocol, System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors());
    if (c.tune) {
      tune(r, c, out);
    }
    out.printf(Locale.ROOT, "- iALS: dim %d, epochs %d, alpha0 %s, lambda %s, scale %s; EASE lambda %s%n%n",
        c.ials.dim(), c.ials.epochs(), c.ials.unobservedWeight(), c.ials.regularization(), c.ials.confidenceScale(),
        c.easeLambda);
    Table table = new Table();
    List<Double> trainSeconds = new ArrayList<>();
    List<Double> easeSeconds = new ArrayList<>();
    List<Long> foldNanos = new ArrayList<>();
    int seeds = c.protocol.equals("strong") ? c.seeds : 1;
    Split split = null;
    for (int seed = 0; seed < seeds; seed++) {
      split = c.protocol.equals("strong") ? Split.strong(r, c.minRating, seed) : Split.temporal(r, c.minRating);
      List<Split.HeldOut> users = split.test();
      long t0 = System.nanoTime();
      IalsModel model = Ials.train(split.train(), c.ials.withSeed(seed));
      trainSeconds.add((System.nanoTime() - t0) / 1e9);
      FoldIn foldIn = model.foldIn();
      float[] pop = Popularity.counts(split.train());
      Evaluator ev = new Evaluator(split.items(), pop, model.itemVectors(), model.dim());
      Scorer ials = fold -> {
        long s = System.nanoTime();
        float[] v = foldIn.solve(fold, ones(fold.length));
        foldNanos.add(System.nanoTime() - s);
        return model.scores(v);
      };
      table.add("popularity", ev.evaluate(users, Evaluator.byScore(new Popularity(split.train()))));
      if (c.ease) {
        long e0 = System.nanoTime();
        Ease ease = new Ease(split.train(), c.easeLambda);
        easeSeconds.add((System.nanoTime() - e0) / 1e9);
        table.add("EASE (λ " + fmt(c.easeLambda) + ")", ev.evaluate(users, Evaluator.byScore(ease)));
      }
      String ialsName = "iALS (d " + c.ials.dim() + ", α₀ " + fmt(c.ials.unobservedWeight()) + ", λ "
          + fmt(c.ials.regularization()) + ")";
      table.add(ialsName, ev.evaluate(users, Evaluator.byScore(ials)));
      for (double lambda : c.mmrLambdas) {
        table.add(mmrName(lambda), ev.evaluate(users,
            Evaluator.mmr(ials, model.itemVectors(), model.dim(), lambda, c.mmrWindow)));
      }
      table.add("iALS + tail slot at 5", ev.evaluate(users, Evaluator.tailSlot(ials, ev.tail(), 4)));
      out.printf(Locale.ROOT, "- seed %d: %,d train users, %,d items, %,d train positives, %d test users%n", seed,
          split.train().users(), split.items(), split.train().nnz(), users.size());
    }
    out.println();
    table.print(out);
    out.println();
    String ials = table.rows.keySet().stream().filter(k -> k.startsWith("iALS (")).findFirst().orElseThrow();
    int ndcg100 = Evaluator.METRICS.indexOf("NDCG@100");
    int ndcg10 = Evaluator.METRICS.indexOf("NDCG@10");
    int ild = Evaluator.METRICS.indexOf("ILD@10");
    int tail = Evaluator.METRICS.indexOf("tail@10");
    out.printf(Locale.ROOT, "- iALS / popularity NDCG@100: %.2f×%n",
        table.mean(ials, ndcg100) / table.mean("popularity", ndcg100));
    if (c.ease) {
      String e = table.rows.keySet().stream().filter(k -> k.startsWith("EASE")).findFirst().orElseThrow();
      out.printf(Locale.ROOT, "- iALS − EASE NDCG@100: %+.4f (EASE sd %.4f)%n",
          table.mean(ials, ndcg100) - table.mean(e, ndcg100), table.sd(e, ndcg100));
    }
    for (double lambda : c.mmrLambdas) {
      out.printf(Locale.ROOT, "- MMR λ %s (top-%d re-ranked): ILD@10 %+.1f %%, NDCG@10 %+.1f %%%n", fmt(lambda),
          c.mmrWindow, 100 * (table.mean(mmrName(lambda), ild) / table.mean(ials, ild) - 1),
          100 * (table.mean(mmrName(lambda), ndcg10) / table.mean(ials, ndcg10) - 1));
    }
    out.printf(Locale.ROOT, "- tail slot: tail@10 %.1f %% → %.1f %%, NDCG@10 %+.1f %%%n",
        100 * table.mean(ials, tail), 100 * table.mean("iALS + tail slot at 5", tail),
        100 * (table.mean("iALS + tail slot at 5", ndcg10) / table.mean(ials, ndcg10) - 1));
    out.printf(Locale.ROOT, "- iALS training: %.2f s mean per seed (%d threads, %d epochs)%s%n",
        trainSeconds.stream().mapToDouble(Double::doubleValue).average().orElse(0), c.ials.threads(),
        c.ials.epochs(), easeSeconds.isEmpty() ? "" : String.format(Locale.ROOT, "; EASE closed form %.2f s",
            easeSeconds.stream().mapToDouble(Double::doubleValue).average().orElse(0)));
    out.printf(Locale.ROOT, "- fold-in of the held-out users (d %d, exact): %s%n", c.ials.dim(),
        percentiles(foldNanos));
    out.printf(Locale.ROOT, "- fold-in, 300-item histories, d 64, one thread: %s%n", foldInLatency(split, 300));
  }

  /** p50/p99 of FoldIn.solve over random 300-item histories against a d=64 model of the split's training data. */
  static String foldInLatency(Split split, int history) {
    IalsModel m = Ials.train(split.train(), new IalsParams(64, 2, 0.1, 0.01, 1, 1, 2));
    FoldIn f = m.foldIn();
    SplittableRandom r = new SplittableRandom(3);
    int h = Math.min(history, split.items());
    List<Long> times = new ArrayList<>();
    for (int k = 0; k < 6000; k++) {
      int[] items = new int[h];
      float[] s = new float[h];
      for (int j = 0; j < h; j++) {
        items[j] = r.nextInt(split.items());
        s[j] = 1 + r.nextInt(5);
      }
      long t = System.nanoTime();
      f.solve(items, s);
      if (k >= 1000) { // the first 1,000 warm the JIT
        times.add(System.nanoTime() - t);
      }
    }
    return percentiles(times);
  }

  static String percentiles(List<Long> nanos) {
    long[] a = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
    if (a.length == 0) {
      return "n/a";
    }
    return String.format(Locale.ROOT, "p50 %.3f ms, p99 %.3f ms (n = %,d)", a[a.length / 2] / 1e6,
        a[Math.min(a.length - 1, (int) (a.length * 0.99))] / 1e6, a.length);
  }

  /** Grid on the validation users of seed 0 (strong) or on the temporal targets; picks by NDCG@100. */
  static void tune(Ratings r, Config c, PrintStream out) {
    Split s = c.protocol.equals("strong") ? Split.strong(r, c.minRating, 0) : Split.temporal(r, c.minRating);
    List<Split.HeldOut> val = c.protocol.equals("strong") ? s.validation() : s.test();
    int ndcg = Evaluator.METRICS.indexOf("NDCG@100");
    float[] pop = Popularity.counts(s.train());
    double best = -1;
    IalsParams bestP = c.ials;
    out.println();
    out.println("Tuning on " + val.size() + " validation users (NDCG@100):");
    out.println();
    for (int d : c.gridDims) {
      for (double a : c.gridAlpha0) {
        for (double l : c.gridLambda) {
          IalsParams p = c.ials.withDim(d).withUnobservedWeight(a).withRegularization(l).withSeed(0);
          IalsModel m = Ials.train(s.train(), p);
          FoldIn f = m.foldIn();
          Evaluator ev = new Evaluator(s.items(), pop, m.itemVectors(), d);
          double v = ev.evaluate(val, Evaluator.byScore(fold -> m.scores(f.solve(fold, ones(fold.length)))))[ndcg];
          out.printf(Locale.ROOT, "- iALS d %d α₀ %s λ %s: %.4f%n", d, fmt(a), fmt(l), v);
          if (v > best) {
            best = v;
            bestP = p;
          }
        }
      }
    }
    c.ials = bestP;
    if (c.ease) {
      double bestE = -1;
      Evaluator ev = new Evaluator(s.items(), pop, new float[s.items()], 1);
      for (double l : c.gridEase) {
        double v = ev.evaluate(val, Evaluator.byScore(new Ease(s.train(), l)))[ndcg];
        out.printf(Locale.ROOT, "- EASE λ %s: %.4f%n", fmt(l), v);
        if (v > bestE) {
          bestE = v;
          c.easeLambda = l;
        }
      }
    }
    out.println();
  }

  static float[] ones(int n) {
    float[] a = new float[n];
    Arrays.fill(a, 1);
    return a;
  }

  static String fmt(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e9 ? String.valueOf((long) v) : String.valueOf(v);
  }
}

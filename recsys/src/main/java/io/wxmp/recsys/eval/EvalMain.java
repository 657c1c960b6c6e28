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
        --cg-steps N                 train iALS rows by N warm-started CG steps instead of exactly (default 0 = exact)
        --extra-ials D,A,L,E[,CG]    one more iALS row on the same splits (e.g. the feed's 64,0.3,0.003,16)
        --ease-lambda L              EASE regulariser (default 100)
        --tune                       grid-search iALS (dims x alpha0 x lambda x epochs) and EASE on seed 0's
                                     validation users
        --tune-only                  stop after the grid (split a large grid over several runs)
        --grid-dims 64,128 --grid-alpha0 0.01,0.03,0.1,0.3 --grid-lambda 0.001,0.003,0.01,0.03
        --grid-epochs 16 --grid-ease 50,100,200,500,1000
        --threads T                  training threads (default: available processors)
        --no-ease                    skip EASE
        --mmr-lambdas 0.9,0.7,0.5    MMR rows to add (default 0.7); each one's ILD@10 / NDCG@10 change is printed
        --mmr-window N               candidates MMR re-ranks into the first 10 places (default 100)
        --mmr-windows 20,50,100      several windows (each a row per λ and variant; overrides --mmr-window)
        --mmr-variants minmax,rank,softmax:0.5,minmax/mean   relevance scaling [/mean similarity] (default minmax)
        --mmr-users test|validation  held-out users the MMR rows are measured on (default test)
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
      if (a.equals("--tune") || a.equals("--no-ease") || a.equals("--tune-only")) {
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
    final boolean tuneOnly;
    final boolean ease;
    final int cgSteps;
    final IalsParams extraIals;
    final int extraCgSteps;
    final int[] gridDims;
    final int[] gridEpochs;
    final double[] gridAlpha0;
    final double[] gridLambda;
    final double[] gridEase;
    final double[] mmrLambdas;
    final int mmrWindow;
    final int[] mmrWindows;
    final List<io.wxmp.recsys.Mmr.Options> mmrVariants;
    final boolean mmrOnValidation;

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
      tuneOnly = o.containsKey("--tune-only");
      tune = o.containsKey("--tune") || tuneOnly;
      cgSteps = Integer.parseInt(o.getOrDefault("--cg-steps", "0"));
      if (o.containsKey("--extra-ials")) {
        double[] e = doubles(o.get("--extra-ials"));
        if (e.length != 4 && e.length != 5) {
          throw new IllegalArgumentException("--extra-ials takes D,ALPHA0,LAMBDA,EPOCHS[,CG]");
        }
        extraIals = new IalsParams((int) e[0], (int) e[3], e[1], e[2], ials.confidenceScale(), 0, threads);
        extraCgSteps = e.length == 5 ? (int) e[4] : 0;
      } else {
        extraIals = null;
        extraCgSteps = 0;
      }
      gridEpochs = Arrays.stream(o.getOrDefault("--grid-epochs", String.valueOf(ials.epochs())).split(","))
          .mapToInt(Integer::parseInt).toArray();
      ease = !o.containsKey("--no-ease");
      gridDims = Arrays.stream(o.getOrDefault("--grid-dims", "64,128").split(",")).mapToInt(Integer::parseInt)
          .toArray();
      gridAlpha0 = doubles(o.getOrDefault("--grid-alpha0", "0.01,0.03,0.1,0.3"));
      gridLambda = doubles(o.getOrDefault("--grid-lambda", "0.001,0.003,0.01,0.03"));
      gridEase = doubles(o.getOrDefault("--grid-ease", "50,100,200,500,1000"));
      mmrLambdas = doubles(o.getOrDefault("--mmr-lambdas", "0.7"));
      mmrWindow = Integer.parseInt(o.getOrDefault("--mmr-window", "100"));
      mmrWindows = Arrays.stream(o.getOrDefault("--mmr-windows", String.valueOf(mmrWindow)).split(","))
          .mapToInt(Integer::parseInt).toArray();
      mmrVariants = Arrays.stream(o.getOrDefault("--mmr-variants", "minmax").split(","))
          .map(io.wxmp.recsys.Mmr.Options::parse).toList();
      String mu = o.getOrDefault("--mmr-users", "test");
      if (!mu.equals("test") && !mu.equals("validation")) {
        throw new IllegalArgumentException("--mmr-users must be test or validation");
      }
      mmrOnValidation = mu.equals("validation");
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

  static String mmrName(double lambda, int window, io.wxmp.recsys.Mmr.Options o, Config c) {
    boolean plain = c.mmrWindows.length == 1 && c.mmrVariants.size() == 1
        && o.equals(io.wxmp.recsys.Mmr.Options.CLASSIC);
    return "iALS + MMR λ " + fmt(lambda) + (plain ? "" : " (" + o + ", top-" + window + ")")
        + (c.mmrOnValidation ? " [validation]" : "");
  }

  static String ialsName(IalsParams p, int cgSteps) {
    return "iALS (d " + p.dim() + ", α₀ " + fmt(p.unobservedWeight()) + ", λ " + fmt(p.regularization())
        + (p.epochs() == 16 ? "" : ", " + p.epochs() + " epochs") + (cgSteps == 0 ? "" : ", CG " + cgSteps) + ")";
  }

  static void run(Ratings r, String name, Config c, PrintStream out) {
    out.printf(Locale.ROOT, "# recsys-eval %s%n%n", name);
    out.printf(Locale.ROOT, "- input: %,d rows, %,d users, %,d items; positives: rating >= %s%n", r.size(), r.users(),
        r.items(), Double.isInfinite(c.minRating) ? "any" : c.minRating);
    out.printf(Locale.ROOT, "- protocol: %s; JDK %s; %d processors%n", c.protocol, System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors());
    if (c.tune) {
      tune(r, c, out);
      if (c.tuneOnly) {
        return;
      }
    }
    out.printf(Locale.ROOT, "- iALS: dim %d, epochs %d, alpha0 %s, lambda %s, scale %s, CG steps %d; EASE lambda %s%n",
        c.ials.dim(), c.ials.epochs(), c.ials.unobservedWeight(), c.ials.regularization(), c.ials.confidenceScale(),
        c.cgSteps, c.easeLambda);
    if (c.extraIals != null) {
      out.printf(Locale.ROOT, "- also iALS: dim %d, epochs %d, alpha0 %s, lambda %s, CG steps %d%n",
          c.extraIals.dim(), c.extraIals.epochs(), c.extraIals.unobservedWeight(), c.extraIals.regularization(),
          c.extraCgSteps);
    }
    out.println();
    Table table = new Table();
    List<Double> trainSeconds = new ArrayList<>();
    List<Double> extraSeconds = new ArrayList<>();
    List<Double> easeSeconds = new ArrayList<>();
    List<Long> foldNanos = new ArrayList<>();
    int seeds = c.protocol.equals("strong") ? c.seeds : 1;
    Split split = null;
    String ialsName = ialsName(c.ials, c.cgSteps);
    String plainOnMmrUsers = c.mmrOnValidation ? "iALS [validation]" : ialsName;
    for (int seed = 0; seed < seeds; seed++) {
      split = c.protocol.equals("strong") ? Split.strong(r, c.minRating, seed) : Split.temporal(r, c.minRating);
      List<Split.HeldOut> users = split.test();
      long t0 = System.nanoTime();
      IalsModel model = Ials.train(split.train(), c.ials.withSeed(seed), c.cgSteps);
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
      table.add(ialsName, ev.evaluate(users, Evaluator.byScore(ials)));
      if (c.extraIals != null) {
        long x0 = System.nanoTime();
        IalsModel extra = Ials.train(split.train(), c.extraIals.withSeed(seed), c.extraCgSteps);
        extraSeconds.add((System.nanoTime() - x0) / 1e9);
        FoldIn xf = extra.foldIn();
        table.add(ialsName(c.extraIals, c.extraCgSteps),
            ev.evaluate(users, Evaluator.byScore(fold -> extra.scores(xf.solve(fold, ones(fold.length))))));
      }
      List<Split.HeldOut> mmrUsers = c.mmrOnValidation ? split.validation() : users;
      if (c.mmrOnValidation) {
        table.add(plainOnMmrUsers, ev.evaluate(mmrUsers, Evaluator.byScore(ials)));
      }
      for (int window : c.mmrWindows) {
        for (io.wxmp.recsys.Mmr.Options o : c.mmrVariants) {
          for (double lambda : c.mmrLambdas) {
            table.add(mmrName(lambda, window, o, c), ev.evaluate(mmrUsers,
                Evaluator.mmr(ials, model.itemVectors(), model.dim(), lambda, window, o)));
          }
        }
      }
      table.add("iALS + tail slot at 5", ev.evaluate(users, Evaluator.tailSlot(ials, ev.tail(), 4)));
      out.printf(Locale.ROOT, "- seed %d: %,d train users, %,d items, %,d train positives, %d test users, "
          + "%d validation users%n", seed, split.train().users(), split.items(), split.train().nnz(), users.size(),
          split.validation().size());
    }
    out.println();
    table.print(out);
    out.println();
    String ials = ialsName;
    int ndcg100 = Evaluator.METRICS.indexOf("NDCG@100");
    int ndcg10 = Evaluator.METRICS.indexOf("NDCG@10");
    int ild = Evaluator.METRICS.indexOf("ILD@10");
    int tail = Evaluator.METRICS.indexOf("tail@10");
    out.printf(Locale.ROOT, "- iALS / popularity NDCG@100: %.2f×%n",
        table.mean(ials, ndcg100) / table.mean("popularity", ndcg100));
    if (c.ease) {
      String e = table.rows.keySet().stream().filter(k -> k.startsWith("EASE")).findFirst().orElseThrow();
      out.printf(Locale.ROOT, "- iALS − EASE NDCG@100: %+.4f (EASE sd %.4f); per seed: %s%n",
          table.mean(ials, ndcg100) - table.mean(e, ndcg100), table.sd(e, ndcg100),
          perSeedDiff(table, ials, e, ndcg100));
      if (c.extraIals != null) {
        String x = ialsName(c.extraIals, c.extraCgSteps);
        out.printf(Locale.ROOT, "- %s − EASE NDCG@100: %+.4f; per seed: %s%n", x,
            table.mean(x, ndcg100) - table.mean(e, ndcg100), perSeedDiff(table, x, e, ndcg100));
      }
    }
    for (int window : c.mmrWindows) {
      for (io.wxmp.recsys.Mmr.Options o : c.mmrVariants) {
        for (double lambda : c.mmrLambdas) {
          String m = mmrName(lambda, window, o, c);
          out.printf(Locale.ROOT, "- MMR λ %s (%s, top-%d re-ranked%s): ILD@10 %+.1f %%, NDCG@10 %+.1f %%%n",
              fmt(lambda), o, window, c.mmrOnValidation ? ", validation users" : "",
              100 * (table.mean(m, ild) / table.mean(plainOnMmrUsers, ild) - 1),
              100 * (table.mean(m, ndcg10) / table.mean(plainOnMmrUsers, ndcg10) - 1));
        }
      }
    }
    out.printf(Locale.ROOT, "- tail slot: tail@10 %.1f %% → %.1f %%, NDCG@10 %+.1f %%%n",
        100 * table.mean(ials, tail), 100 * table.mean("iALS + tail slot at 5", tail),
        100 * (table.mean("iALS + tail slot at 5", ndcg10) / table.mean(ials, ndcg10) - 1));
    out.printf(Locale.ROOT, "- iALS training: %.2f s mean per seed (%d threads, %d epochs)%s%s%n",
        trainSeconds.stream().mapToDouble(Double::doubleValue).average().orElse(0), c.ials.threads(),
        c.ials.epochs(), extraSeconds.isEmpty() ? "" : String.format(Locale.ROOT, "; the other iALS %.2f s",
            extraSeconds.stream().mapToDouble(Double::doubleValue).average().orElse(0)),
        easeSeconds.isEmpty() ? "" : String.format(Locale.ROOT, "; EASE closed form %.2f s",
            easeSeconds.stream().mapToDouble(Double::doubleValue).average().orElse(0)));
    out.printf(Locale.ROOT, "- fold-in of the held-out users (d %d, exact): %s%n", c.ials.dim(),
        percentiles(foldNanos));
    out.printf(Locale.ROOT, "- fold-in, 300-item histories, d 64, one thread: %s%n", foldInLatency(split, 300));
  }

  /** a − b per seed (same splits), e.g. "+0.004 −0.001 …". */
  static String perSeedDiff(Table t, String a, String b, int metric) {
    List<double[]> x = t.rows.get(a);
    List<double[]> y = t.rows.get(b);
    StringBuilder s = new StringBuilder();
    for (int k = 0; k < x.size(); k++) {
      s.append(k == 0 ? "" : " ").append(String.format(Locale.ROOT, "%+.4f", x.get(k)[metric] - y.get(k)[metric]));
    }
    return s.toString();
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
    int r20 = Evaluator.METRICS.indexOf("R@20");
    int n10 = Evaluator.METRICS.indexOf("NDCG@10");
    for (int d : c.gridDims) {
      for (double a : c.gridAlpha0) {
        for (double l : c.gridLambda) {
          for (int e : c.gridEpochs) {
            IalsParams p = c.ials.withDim(d).withUnobservedWeight(a).withRegularization(l).withEpochs(e).withSeed(0);
            long t0 = System.nanoTime();
            IalsModel m = Ials.train(s.train(), p, c.cgSteps);
            double secs = (System.nanoTime() - t0) / 1e9;
            FoldIn f = m.foldIn();
            Evaluator ev = new Evaluator(s.items(), pop, m.itemVectors(), d);
            double[] all = ev.evaluate(val, Evaluator.byScore(fold -> m.scores(f.solve(fold, ones(fold.length)))));
            double v = all[ndcg];
            out.printf(Locale.ROOT, "- iALS d %d α₀ %s λ %s epochs %d%s: NDCG@100 %.4f (R@20 %.4f, NDCG@10 %.4f; "
                + "%.1f s)%n", d, fmt(a), fmt(l), e, c.cgSteps == 0 ? "" : " CG " + c.cgSteps, v, all[r20], all[n10],
                secs);
            out.flush();
            if (v > best) {
              best = v;
              bestP = p;
            }
          }
        }
      }
    }
    out.printf(Locale.ROOT, "- best iALS on validation: d %d α₀ %s λ %s epochs %d: %.4f%n", bestP.dim(),
        fmt(bestP.unobservedWeight()), fmt(bestP.regularization()), bestP.epochs(), best);
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
